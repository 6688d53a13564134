#!/usr/bin/env bash
# HAProxy (`fcgi-app`, `proto fcgi`) in front of the examples, over unix sockets:
#   /hello, /echo  an fcgi-app with `no option keep-conn` (keep-conn is HAProxy's default):
#                  one connection per request;
#   /mpx/          a second echo instance behind an fcgi-app with keep-conn, mpxs-conns,
#                  get-values and max-reqs 16, and `http-reuse always`: concurrent client
#                  requests must share ONE FastCGI connection (our app answers
#                  FCGI_MPXS_CONNS=1 to HAProxy's GET_VALUES).
# HAProxy 2.6 needs `option max-reqs` > 1 and `http-reuse always` to multiplex at all; it does
# not take FCGI_MAX_REQS from the app's answer.
# shellcheck disable=SC2317  # check functions are called through run_check
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
interop_begin haproxy "${1:-}"
require_bin haproxy curl

start_app hello hello unix "$T/hello.sock"
start_app echo echo unix "$T/echo.sock"
start_app echo_mpx echo unix "$T/echo-mpx.sock"

port=$(free_port)
stats_port=$(free_port)
# One thread: HAProxy keeps a multiplexed server connection per thread (with 2 threads the 8
# requests below went over 2 connections), and the check wants one exact count.
cat >"$T/haproxy.cfg" <<EOF
global
    nbthread 1

defaults
    mode http
    timeout connect 2s
    timeout client 30s
    timeout server 30s

frontend fe
    bind 127.0.0.1:$port
    use_backend be_hello if { path /hello }
    use_backend be_mpx if { path_beg /mpx/ }
    default_backend be_echo

frontend stats
    bind 127.0.0.1:$stats_port
    stats enable
    stats uri /stats

backend be_hello
    use-fcgi-app plain
    server hello unix@$T/hello.sock proto fcgi

backend be_echo
    use-fcgi-app plain
    server echo unix@$T/echo.sock proto fcgi

backend be_mpx
    use-fcgi-app mpx
    http-reuse always
    server mpx unix@$T/echo-mpx.sock proto fcgi

fcgi-app plain
    docroot $T
    no option keep-conn

fcgi-app mpx
    docroot $T
    option keep-conn
    option mpxs-conns
    option get-values
    option max-reqs 16
EOF
start_bg haproxy haproxy -db -f "$T/haproxy.cfg"
wait_tcp "$port" "${pid_of[haproxy]}" haproxy
base=http://127.0.0.1:$port

# stat_field PROXY SERVER FIELD: one field of HAProxy's CSV statistics.
stat_field() {
  curl -sS --max-time 5 "http://127.0.0.1:$stats_port/stats;csv" |
    awk -F, -v px="$1" -v sv="$2" -v field="$3" '
      NR == 1 { sub(/^# /, ""); for (i = 1; i <= NF; i++) col[$i] = i; next }
      $1 == px && $2 == sv { print $col[field]; exit }'
}

# Eight uploads, each throttled to last about 1.5 s, run at once: they are all in flight
# together, so one FastCGI connection carrying all of them means real multiplexing. The app's
# connections are sampled meanwhile, and HAProxy's own count of server connections is read.
check_multiplexed() {
  local clients=8 i body=$T/mpx-body.bin samples=$T/mpx-samples
  body_file $((384 * 1024)) "$body"
  local want_sha
  want_sha=$(sha "$body")
  : >"$samples"
  # Connections left idle by earlier requests are left out: only new ones count.
  local before
  before=" $(app_connections echo_mpx | tr '\n' ' ') "
  local connects_before reuses_before
  connects_before=$(stat_field be_mpx mpx connect)
  reuses_before=$(stat_field be_mpx mpx reuse)
  local -a curls=()
  for i in $(seq 1 "$clients"); do
    curl -sS --max-time 20 -H 'Expect:' --limit-rate 256k -o "$T/mpx-$i.body" -w '%{http_code}' \
      --data-binary "@$body" "$base/mpx/?client=$i" >"$T/mpx-$i.status" 2>"$T/mpx-$i.err" &
    curls+=($!)
  done
  local running=1
  while ((running)); do
    running=0
    for i in "${curls[@]}"; do is_running "$i" && running=1; done
    local inode line=''
    for inode in $(app_connections echo_mpx); do
      [[ "$before" == *" $inode "* ]] || line+="$inode "
    done
    printf '%s\n' "$line" >>"$samples"
    sleep 0.05
  done
  local ok=0
  for i in "${curls[@]}"; do wait "$i" || true; done
  for i in $(seq 1 "$clients"); do
    if [[ "$(cat "$T/mpx-$i.status")" != 200 ]]; then
      printf '  client %d: HTTP %s %s\n' "$i" "$(cat "$T/mpx-$i.status")" "$(cat "$T/mpx-$i.err")" >&2
      continue
    fi
    expect_line "$T/mpx-$i.body" "QUERY_STRING=client=$i" || continue
    expect_eq "client $i: sha256 of the echoed upload" "$want_sha" \
      "$(tail_sha $((384 * 1024)) "$T/mpx-$i.body")" || continue
    ok=$((ok + 1))
  done
  expect_eq "clients answered correctly" "$clients" "$ok" || return 1
  local distinct most
  distinct=$(tr ' ' '\n' <"$samples" | grep . | sort -u | wc -l)
  most=$(awk '{ if (NF > m) m = NF } END { print m + 0 }' "$samples")
  local connects reuses
  connects=$(($(stat_field be_mpx mpx connect) - connects_before))
  reuses=$(($(stat_field be_mpx mpx reuse) - reuses_before))
  note "multiplexing" "$clients concurrent uploads -> $distinct new app connection(s), at most $most at once; HAProxy connect=$connects reuse=$reuses"
  expect_eq "FastCGI connections opened by HAProxy for $clients concurrent requests" 1 "$connects" || return 1
  expect_eq "new app connections during the requests" 1 "$distinct"
}

run_check "GET /hello exact body" check_hello "$base/hello"
# First on its backend: no idle connection from an earlier request can blur the count.
run_check "mpxs-conns + get-values: 8 concurrent requests on 1 connection" check_multiplexed
run_check "GET /echo params" check_echo_get "$base/echo?x=1&y=2" 'x=1&y=2'
run_check "POST 10 MiB echoed" check_post_10mib "$base/echo"
run_check "10 MiB response" check_big_response "$base/echo?size=$ten_mib"
run_check "POST 10 MiB echoed (mpx backend)" check_post_10mib "$base/mpx/"
run_check "10 MiB response (mpx backend)" check_big_response "$base/mpx/?size=$ten_mib"
# HAProxy 2.6 answers 400 itself to a chunked body it cannot hold whole.
run_check "chunked POST 1 MiB: HAProxy answers 400 itself" check_chunked_refused "$base/echo" 400
run_check "no keep-conn: connection closed after each request" check_connection_per_request echo "$base/echo"
run_check "hello app logged nothing" app_log_clean hello
run_check "echo app logged nothing" app_log_clean echo
run_check "echo (mpx) app logged nothing" app_log_clean echo_mpx
interop_end
