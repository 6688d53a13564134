#!/usr/bin/env bash
# h2o in front of the examples, over unix sockets:
#   /hello, /echo  `fastcgi.connect`, no keep-alive (h2o's default: a connection per request);
#   /keep          `fastcgi.timeout.keepalive`, served by a second echo instance so that its
#                  connections can be counted on their own;
#   /spawned       `fastcgi.spawn`: h2o starts echo itself with a listening socket on fd 0.
# As root, h2o drops to nobody before it writes its pid file unless told `user: root`.
# shellcheck disable=SC2317  # check functions are called through run_check
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
interop_begin h2o "${1:-}"
require_bin h2o curl

start_app hello hello unix "$T/hello.sock"
start_app echo echo unix "$T/echo.sock"
start_app echo_keep echo unix "$T/echo-keep.sock"

port=$(free_port)
run_as=''
((EUID == 0)) && run_as='user: root'
cat >"$T/h2o.conf" <<EOF
$run_as
listen:
  host: 127.0.0.1
  port: $port
pid-file: $T/h2o.pid
error-log: $T/h2o-error.log
hosts:
  default:
    paths:
      "/hello":
        fastcgi.connect:
          port: $T/hello.sock
          type: unix
      "/echo":
        fastcgi.connect:
          port: $T/echo.sock
          type: unix
      "/keep":
        fastcgi.connect:
          port: $T/echo-keep.sock
          type: unix
        fastcgi.timeout.keepalive: 10000
      "/spawned":
        fastcgi.spawn: "exec $examples_dir/echo"
EOF
start_bg h2o h2o -c "$T/h2o.conf"
wait_tcp "$port" "${pid_of[h2o]}" h2o
base=http://127.0.0.1:$port

check_spawned() {
  local out=$T/spawned
  http "$out" "$base/spawned?from=fd0" || return 1
  expect_status "$out" 200 || return 1
  expect_line "$out.body" "QUERY_STRING=from=fd0"
}

run_check "GET /hello exact body" check_hello "$base/hello"
run_check "GET /echo params" check_echo_get "$base/echo?x=1&y=2" 'x=1&y=2'
run_check "POST 10 MiB echoed" check_post_10mib "$base/echo"
run_check "10 MiB response" check_big_response "$base/echo?size=$ten_mib"
run_check "POST 10 MiB echoed (keepalive)" check_post_10mib "$base/keep"
run_check "10 MiB response (keepalive)" check_big_response "$base/keep?size=$ten_mib"
run_check "chunked POST 1 MiB" check_chunked_post "$base/echo" "CONTENT_LENGTH=1048576"
run_check "keepalive: 5 sequential requests on 1 connection" check_connection_reused echo_keep "$base/keep"
run_check "no keepalive: connection closed after each request" check_connection_per_request echo "$base/echo"
run_check "app spawned by h2o on fd 0 (fastcgi.spawn)" check_spawned
run_check "hello app logged nothing" app_log_clean hello
run_check "echo app logged nothing" app_log_clean echo
run_check "echo (keepalive) app logged nothing" app_log_clean echo_keep
interop_end
