<?php
// The php-fpm anchor of the end-to-end benchmarks (bench/run): one script for the three routes
// every benchmark app answers, matched on the end of the path (nginx sends every request here):
//   .../hello  Content-Type: text/plain, Content-Length: 14, body "Hello, world!\n"
//   .../big    a 1 MiB body (?mib=N: N MiB)
//   .../post   reads the whole request body and answers its byte count and "\n"
$path = parse_url($_SERVER['REQUEST_URI'] ?? '', PHP_URL_PATH) ?? '';
if (str_ends_with($path, '/hello')) {
    header('Content-Type: text/plain');
    header('Content-Length: 14');
    echo "Hello, world!\n";
} elseif (str_ends_with($path, '/big')) {
    $count = max(1, (int)($_GET['mib'] ?? 1));
    header('Content-Type: application/octet-stream');
    header('Content-Length: ' . ($count << 20));
    $block = str_repeat('x', 1 << 20);
    for ($i = 0; $i < $count; $i++) {
        echo $block;
    }
} elseif (str_ends_with($path, '/post')) {
    $length = 0;
    $input = fopen('php://input', 'rb');
    while (!feof($input)) {
        $length += strlen(fread($input, 65536));
    }
    $text = "$length\n";
    header('Content-Type: text/plain');
    header('Content-Length: ' . strlen($text));
    echo $text;
} else {
    http_response_code(404);
    header('Content-Type: text/plain');
    echo "no such route\n";
}
