#!/usr/bin/env bash
# fcgi-pm behind nginx, reloaded under load (issue 6, HOSTILE E-59): wrk sends requests through
# nginx to a pool of hello workers, both without keep-conn (a connection per request) and with
# `fastcgi_keep_conn on` + an upstream keepalive pool, while fcgi-pm is sent SIGHUP five times.
# Every worker is replaced each time; not one request may fail, and none may stall.
# shellcheck disable=SC2317  # check functions are called through run_check
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
interop_begin nginx-pm-reload "${1:-}"
require_bin nginx wrk
[[ -r /etc/nginx/fastcgi_params ]] || skip "/etc/nginx/fastcgi_params is missing"
pm="$(cd "$examples_dir/.." && pwd)/tools/fcgi-pm/fcgi-pm"
[[ -x "$pm" ]] || skip "fcgi-pm is not built ($pm)"

allow_root=()
((EUID == 0)) && allow_root=(--allow-root)
start_bg pm "$pm" "${allow_root[@]}" -l "unix:$T/hello.sock" -w 3 --min-uptime 300ms \
  -- "$examples_dir/hello"
wait_unix "$T/hello.sock" "${pid_of[pm]}" "fcgi-pm's socket"

port=$(free_port)
mkdir -p "$T/nginx"
nginx_conf_head 256 >"$T/nginx/nginx.conf"
cat >>"$T/nginx/nginx.conf" <<EOF
  upstream pool_keep {
    server unix:$T/hello.sock;
    keepalive 16;
  }
  server {
    listen 127.0.0.1:$port;
    location = /hello {
      include /etc/nginx/fastcgi_params;
      fastcgi_pass unix:$T/hello.sock;
    }
    location = /keep/hello {
      include /etc/nginx/fastcgi_params;
      fastcgi_keep_conn on;
      fastcgi_pass pool_keep;
    }
  }
}
EOF
start_bg nginx nginx -p "$T/nginx" -c "$T/nginx/nginx.conf"
wait_tcp "$port" "${pid_of[nginx]}" nginx
base=http://127.0.0.1:$port

worker_pids() { pgrep -P "${pid_of[pm]}" | sort; }

# reload_under_load PATH: wrk for 6 s at 16 connections while fcgi-pm reloads 5 times.
reload_under_load() {
  local path=$1 before after report
  before=$(worker_pids)
  report="$T/wrk-${path//\//_}.txt"
  wrk -t1 -c16 -d6s --timeout 5s "$base$path" >"$report" 2>&1 &
  local wrk_pid=$!
  local i
  for i in 1 2 3 4 5; do
    sleep 1
    kill -HUP "${pid_of[pm]}"
  done
  wait "$wrk_pid" || {
    echo "wrk failed: $(cat "$report")"
    return 1
  }
  after=$(worker_pids)
  local requests
  requests=$(sed -n 's/^ *\([0-9][0-9]*\) requests in.*/\1/p' "$report")
  note "reload under load $path" "$requests requests through nginx during 5 reloads"
  if grep -Eq 'Non-2xx|Socket errors' "$report"; then
    echo "failed or stalled requests during the reloads:"
    cat "$report"
    return 1
  fi
  ((requests > 1000)) || {
    echo "too few requests ($requests): the pool stalled"
    cat "$report"
    return 1
  }
  if [[ -n "$(comm -12 <(echo "$before") <(echo "$after"))" ]]; then
    echo "workers not replaced: before $before, after $after"
    return 1
  fi
}

run_check "GET /hello exact body" check_hello "$base/hello"
run_check "5 reloads under load, a connection per request: 0 failed" reload_under_load /hello
run_check "5 reloads under load, kept connections: 0 failed" reload_under_load /keep/hello
run_check "GET /keep/hello after the reloads" check_hello "$base/keep/hello"
interop_end
