<?php
// The interop test's PHP script for php-fpm.
//   ?op=hello     -> "hello from php\n"
//   ?op=count     -> the byte count of the request body and "\n"
//   ?op=size&n=N  -> N bytes of the block "0123456789abcde\n" repeated, cut at N
header('Content-Type: text/plain');
$op = $_GET['op'] ?? 'hello';
if ($op === 'count') {
    $in = fopen('php://input', 'rb');
    $total = 0;
    while (!feof($in)) {
        $total += strlen(fread($in, 65536));
    }
    echo $total, "\n";
} elseif ($op === 'size') {
    $remaining = (int)($_GET['n'] ?? 0);
    $chunk = str_repeat("0123456789abcde\n", 4096);
    while ($remaining > 0) {
        $n = min($remaining, strlen($chunk));
        echo $n === strlen($chunk) ? $chunk : substr($chunk, 0, $n);
        $remaining -= $n;
    }
} else {
    echo "hello from php\n";
}
