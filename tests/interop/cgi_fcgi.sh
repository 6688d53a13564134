#!/usr/bin/env bash
# cgi-fcgi (libfcgi's command-line client) against the examples: it sends its environment as
# PARAMS and its stdin as STDIN, in the Responder role, one request per connection, and prints
# the raw CGI answer (head included). `env -i` keeps the params to exactly what each check sets.
# Also spawn-fcgi, when installed: it execs echo with the listening socket on fd 0.
# shellcheck disable=SC2317  # check functions are called through run_check
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
interop_begin cgi-fcgi "${1:-}"
require_bin cgi-fcgi

start_app hello hello unix "$T/hello.sock"
start_app echo echo unix "$T/echo.sock"
tcp_port=$(free_port)
start_app echo_tcp echo tcp "$tcp_port"

# fcgi OUT SOCKET NAME=VALUE... [< stdin]: one request; the raw answer in OUT.body.
fcgi() {
  local out=$1 where=$2
  shift 2
  if ! timeout 20 env -i "$@" cgi-fcgi -bind -connect "$where" >"$out.body" 2>"$out.err"; then
    printf '  cgi-fcgi failed: %s\n' "$(tr '\n' ' ' <"$out.err")" >&2
    return 1
  fi
}

crlf=$'\r\n'

check_hello_exact() {
  fcgi "$T/hello" "$T/hello.sock" REQUEST_METHOD=GET SCRIPT_NAME=/hello </dev/null || return 1
  expect_body "$T/hello" "Content-Type: text/plain${crlf}Content-Length: 14${crlf}${crlf}Hello, world!"$'\n'
}

check_echo_exact() {  # SOCKET
  fcgi "$T/echo-get" "$1" REQUEST_METHOD=GET QUERY_STRING=a=1 SCRIPT_NAME=/echo </dev/null || return 1
  expect_body "$T/echo-get" \
    "Content-Type: text/plain${crlf}${crlf}REQUEST_METHOD=GET"$'\n'"QUERY_STRING=a=1"$'\n'"SCRIPT_NAME=/echo"$'\n'
}

check_post() {
  make_upload
  fcgi "$T/post" "$T/echo.sock" REQUEST_METHOD=POST CONTENT_LENGTH="$ten_mib" \
    CONTENT_TYPE=application/octet-stream <"$upload" || return 1
  local head="Content-Type: text/plain${crlf}${crlf}REQUEST_METHOD=POST"$'\n'"CONTENT_LENGTH=$ten_mib"$'\n'"CONTENT_TYPE=application/octet-stream"$'\n'
  expect_eq "size of the answer (head + params + upload)" $((${#head} + ten_mib)) \
    "$(file_size "$T/post.body")" || return 1
  local got_head
  got_head=$(
    head -c "${#head}" "$T/post.body"
    printf x  # keeps the trailing newline that $(...) would strip
  )
  expect_eq "the answer's first bytes" "$head" "${got_head%x}" || return 1
  expect_eq "sha256 of the last 10 MiB" "$upload_sha" "$(tail_sha "$ten_mib" "$T/post.body")"
}

check_big() {
  local expected=$T/big-expected.bin
  printf 'Content-Type: application/octet-stream\r\nContent-Length: %d\r\n\r\n' "$ten_mib" >"$expected"
  pattern_file "$ten_mib" "$T/pattern.bin"
  cat "$T/pattern.bin" >>"$expected"
  fcgi "$T/big" "$T/echo.sock" REQUEST_METHOD=GET QUERY_STRING="size=$ten_mib" </dev/null || return 1
  expect_eq "size of the answer" "$(file_size "$expected")" "$(file_size "$T/big.body")" || return 1
  expect_eq "sha256 of the whole answer (head + pattern)" "$(sha "$expected")" "$(sha "$T/big.body")"
}

check_spawn_fcgi() {
  start_bg spawned spawn-fcgi -n -s "$T/spawned.sock" -M 0666 -- "$examples_dir/echo"
  wait_unix "$T/spawned.sock" "${pid_of[spawned]}" "echo under spawn-fcgi"
  check_echo_exact "$T/spawned.sock"
}

run_check "hello: exact answer" check_hello_exact
run_check "echo: exact answer (unix socket)" check_echo_exact "$T/echo.sock"
run_check "echo: exact answer (TCP)" check_echo_exact "127.0.0.1:$tcp_port"
run_check "POST 10 MiB echoed" check_post
run_check "10 MiB response" check_big
if command -v spawn-fcgi >/dev/null 2>&1; then
  run_check "spawn-fcgi: echo serves the socket on fd 0" check_spawn_fcgi
else
  note "spawn-fcgi" "not installed, fd 0 start-up not checked"
fi
run_check "hello app logged nothing" app_log_clean hello
run_check "echo app logged nothing" app_log_clean echo
run_check "echo (TCP) app logged nothing" app_log_clean echo_tcp
interop_end
