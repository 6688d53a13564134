#!/usr/bin/env bash
# nginx in front of the examples, over unix sockets, both ways nginx talks FastCGI:
#   /hello, /echo  one connection per request (fastcgi_keep_conn off, the default);
#   /keep/         an upstream with `keepalive` and `fastcgi_keep_conn on`, served by a second
#                  echo instance so that its connections can be counted on their own.
# nginx sends only the Responder role; it never multiplexes (one request per connection).
# shellcheck disable=SC2317  # check functions are called through run_check
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
interop_begin nginx "${1:-}"
require_bin nginx curl
[[ -r /etc/nginx/fastcgi_params ]] || skip "/etc/nginx/fastcgi_params is missing"

start_app hello hello unix "$T/hello.sock"
start_app echo echo unix "$T/echo.sock"
start_app echo_keep echo unix "$T/echo-keep.sock"

port=$(free_port)
mkdir -p "$T/nginx"
nginx_conf_head 64 >"$T/nginx/nginx.conf"
cat >>"$T/nginx/nginx.conf" <<EOF
  client_max_body_size 64m;

  upstream fcgikit_keep {
    server unix:$T/echo-keep.sock;
    keepalive 4;
  }

  server {
    listen 127.0.0.1:$port;
    location = /hello {
      include /etc/nginx/fastcgi_params;
      fastcgi_pass unix:$T/hello.sock;
    }
    location /echo {
      include /etc/nginx/fastcgi_params;
      fastcgi_pass unix:$T/echo.sock;
    }
    location /keep/ {
      include /etc/nginx/fastcgi_params;
      fastcgi_keep_conn on;
      fastcgi_pass fcgikit_keep;
    }
  }
}
EOF
start_bg nginx nginx -p "$T/nginx" -c "$T/nginx/nginx.conf"
wait_tcp "$port" "${pid_of[nginx]}" nginx
base=http://127.0.0.1:$port

run_check "GET /hello exact body" check_hello "$base/hello"
run_check "GET /echo params" check_echo_get "$base/echo?x=1&y=2" 'x=1&y=2'
run_check "POST 10 MiB echoed (no keep-conn)" check_post_10mib "$base/echo"
run_check "10 MiB response (no keep-conn)" check_big_response "$base/echo?size=$ten_mib"
run_check "POST 10 MiB echoed (keep-conn)" check_post_10mib "$base/keep/"
run_check "10 MiB response (keep-conn)" check_big_response "$base/keep/?size=$ten_mib"
# nginx reads a chunked body whole before it passes it on, then sends its length.
run_check "chunked POST 1 MiB" check_chunked_post "$base/echo" "CONTENT_LENGTH=1048576"
run_check "keep-conn: 5 sequential requests on 1 connection" check_connection_reused echo_keep "$base/keep/"
run_check "no keep-conn: connection closed after each request" check_connection_per_request echo "$base/echo"
run_check "hello app logged nothing" app_log_clean hello
run_check "echo app logged nothing" app_log_clean echo
run_check "echo (keep-conn) app logged nothing" app_log_clean echo_keep
interop_end
