#!/usr/bin/env bash
# Caddy (reverse_proxy with `transport fastcgi`) in front of the examples, over unix sockets.
# Caddy 2.6 writes the whole request body before it reads any response, which
# an app that answers while still reading would deadlock on; ours runs handlers once the body
# is complete. A request stuck upstream blocks Caddy's SIGTERM: cleanup ends it with KILL.
# shellcheck disable=SC2317  # check functions are called through run_check
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
interop_begin caddy "${1:-}"
require_bin caddy curl

start_app hello hello unix "$T/hello.sock"
start_app echo echo unix "$T/echo.sock"

port=$(free_port)
mkdir -p "$T/caddy-data" "$T/xdg"
# A site address alone binds every interface; `bind` keeps the test on loopback.
cat >"$T/Caddyfile" <<EOF
{
	admin off
	auto_https off
	storage file_system $T/caddy-data
}
http://127.0.0.1:$port {
	bind 127.0.0.1
	handle /hello {
		reverse_proxy unix/$T/hello.sock {
			transport fastcgi
		}
	}
	handle /echo* {
		reverse_proxy unix/$T/echo.sock {
			transport fastcgi
		}
	}
}
EOF
HOME=$T XDG_DATA_HOME=$T/xdg XDG_CONFIG_HOME=$T/xdg \
  start_bg caddy caddy run --config "$T/Caddyfile" --adapter caddyfile
wait_tcp "$port" "${pid_of[caddy]}" caddy
base=http://127.0.0.1:$port

run_check "GET /hello exact body" check_hello "$base/hello"
run_check "GET /echo params" check_echo_get "$base/echo?x=1&y=2" 'x=1&y=2'
run_check "POST 10 MiB echoed" check_post_10mib "$base/echo"
run_check "10 MiB response" check_big_response "$base/echo?size=$ten_mib"
# Caddy 2.6 sends CONTENT_LENGTH=-1 for a chunked body, which CGI does not allow;
# fcgikit refuses it by default (params_policy::accept_minus_one_content_length is opt-in), the
# request ends with no output and Caddy answers 502.
run_check "chunked POST 1 MiB: refused (CONTENT_LENGTH=-1), Caddy answers 502" \
  check_chunked_refused "$base/echo" 502
run_check "connection closed after each request" check_connection_per_request echo "$base/echo"
run_check "hello app logged nothing" app_log_clean hello
run_check "echo app logged only the refused chunked request" \
  app_log_clean echo 'request failed: invalid_content_length .* request id 1 from'
run_check "echo app logged the refused chunked request" \
  grep -q 'request failed: invalid_content_length' "$T/echo.log"
interop_end
