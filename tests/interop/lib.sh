# shellcheck shell=bash
# lib.sh: what every interop script shares. A script sources it, calls interop_begin, starts the
# examples and its peer, runs checks with run_check, and ends with interop_end.
#
# - Everything lives in one temp folder ($T) that is removed on exit (kept with INTEROP_KEEP=1
#   or on failure, so the configs and logs can be read).
# - Every process is started in its own session (setsid), so cleanup reaches its children too
#   (nginx workers, Apache children, spawned apps): TERM to the group, then KILL after 5 s.
# - Readiness is polled with a deadline; nothing sleeps a fixed time.
# - A failed check prints what it expected and what it got, and the script goes on with the
#   next check; the script exits 1 if any failed, 77 if the peer is not installed.
# - Knobs: INTEROP_KEEP=1 keeps $T, INTEROP_STRACE=1 traces the apps (see start_app),
#   INTEROP_BUDGET (s, default 35), CURL_MAX_TIME (s per request, default 20),
#   READY_SECONDS (start-up deadline, default 10).
set -uo pipefail

readonly ten_mib=$((10 * 1024 * 1024))
readonly skip_status=77

T=''
peer_name=''
examples_dir=''
declare -a started_pids=()
declare -A pid_of=()           # label -> pid
declare -A listener_inodes=()  # app label -> socket inodes of its listeners (space separated)
declare -a results=()          # "status|seconds|name"
failures=0

log() { printf '[%s] %s\n' "$peer_name" "$*" >&2; }

die() {
  log "ERROR: $*"
  exit 1
}

skip() {
  log "SKIP: $*"
  exit "$skip_status"
}

now() { printf '%s' "$EPOCHREALTIME"; }

elapsed_since() {  # START -> seconds with two decimals
  local start=$1 end
  end=$(now)
  awk -v a="$start" -v b="$end" 'BEGIN { printf "%.2f", b - a }'
}

# interop_begin PEER BUILD_DIR: checks the examples exist and makes the temp folder.
interop_begin() {
  peer_name=$1
  local build_dir=${2:-}
  [[ -n "$build_dir" ]] || {
    echo "usage: $0 BUILD_DIR   (the CMake build folder holding examples/echo)" >&2
    exit 2
  }
  examples_dir=$(cd "$build_dir/examples" 2>/dev/null && pwd) ||
    die "no examples folder under '$build_dir': build the targets hello echo counter first"
  local example
  for example in echo hello; do
    [[ -x "$examples_dir/$example" ]] || die "missing $examples_dir/$example: build it first"
  done
  # Short and world-readable: unix socket paths are limited to 107 bytes, and some peers
  # (Apache's children) run as www-data.
  T=$(mktemp -d /tmp/fcgi-interop-"$peer_name".XXXXXX) || die "mktemp failed"
  chmod 755 "$T"
  trap on_exit EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  script_started=$(now)
  budget_started=$SECONDS
}

# require_bin NAME...: skips the whole script (77) when a peer binary is missing.
require_bin() {
  local bin
  for bin in "$@"; do
    command -v "$bin" >/dev/null 2>&1 || skip "'$bin' is not installed (scripts/setup interop)"
  done
}

# need_tool NAME...: tools the harness itself needs; their absence is an error, not a skip.
need_tool() {
  local bin
  for bin in "$@"; do
    command -v "$bin" >/dev/null 2>&1 || die "the interop harness needs '$bin'"
  done
}

# start_bg LABEL CMD...: starts CMD in its own session, output in $T/LABEL.log.
start_bg() {
  local label=$1
  shift
  setsid "$@" >"$T/$label.log" 2>&1 </dev/null &
  local pid=$!
  started_pids+=("$pid")
  pid_of[$label]=$pid
}

is_running() {  # PID: alive and not a zombie
  local stat
  stat=$(<"/proc/$1/stat") 2>/dev/null || return 1
  stat=${stat##*) }  # after the command name, which may hold spaces
  [[ "${stat:0:1}" != Z ]]
}

group_members() {  # PGID -> the live pids of that process group, except its leader
  local stat_file stat rest state ppid pgrp pid
  for stat_file in /proc/[0-9]*/stat; do
    stat=$(<"$stat_file") 2>/dev/null || continue
    rest=${stat##*) }  # the command name, in parentheses, may hold spaces
    read -r state ppid pgrp _ <<<"$rest"
    pid=${stat_file#/proc/}
    pid=${pid%/stat}
    [[ "$pgrp" == "$1" && "$pid" != "$1" && "$state" != Z ]] && printf '%s\n' "$pid"
  done
}

wait_stopped() {  # DEADLINE PID...: until every PID has exited or SECONDS reaches DEADLINE
  local deadline=$1 pid
  shift
  for pid in "$@"; do
    while is_running "$pid" && ((SECONDS < deadline)); do sleep 0.05; done
  done
}

stop_all() {
  local pid
  for pid in "${started_pids[@]}"; do
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null
  done
  wait_stopped $((SECONDS + 5)) "${started_pids[@]}"
  # Stragglers (a worker stuck on a request, Caddy with a stuck request): children first, so
  # that their own parent reaps them rather than leaving zombies to a container's init.
  for pid in "${started_pids[@]}"; do
    is_running "$pid" || continue
    group_members "$pid" | xargs -r kill -KILL 2>/dev/null
  done
  wait_stopped $((SECONDS + 2)) "${started_pids[@]}"
  for pid in "${started_pids[@]}"; do
    kill -KILL -- "-$pid" 2>/dev/null
  done
  for pid in "${started_pids[@]}"; do wait "$pid" 2>/dev/null; done
  started_pids=()
}

on_exit() {
  local status=$?
  trap - EXIT
  stop_all
  if ((status != 0 && status != skip_status)); then
    local file
    for file in "$T"/*.log; do
      [[ -s "$file" ]] || continue
      log "---- last lines of ${file##*/} ----"
      tail -n 20 "$file" >&2
    done
    log "files kept in $T"
  elif [[ -n "$T" && "${INTEROP_KEEP:-0}" != 1 ]]; then
    rm -rf "$T"
  else
    log "files kept in $T"
  fi
  exit "$status"
}

# ---- readiness ---------------------------------------------------------------------------

# wait_until DESCRIPTION PID COMMAND...: polls COMMAND for up to 10 s; fails early if PID died.
wait_until() {
  local what=$1 pid=$2
  shift 2
  local deadline=$((SECONDS + ${READY_SECONDS:-10}))
  until "$@"; do
    is_running "$pid" || die "$what: the process exited before it was ready"
    ((SECONDS < deadline)) || die "$what: not ready after ${READY_SECONDS:-10} s"
    sleep 0.02
  done
}

tcp_accepts() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

unix_listening() {  # PATH: a socket file with a listener behind it
  [[ -S "$1" ]] || return 1
  if command -v ss >/dev/null 2>&1; then
    [[ -n "$(ss -Hxl src "$1" 2>/dev/null)" ]]
  fi
}

wait_tcp() { wait_until "${3:-port $1}" "$2" tcp_accepts "$1"; }       # PORT PID [WHAT]
wait_unix() { wait_until "${3:-socket $1}" "$2" unix_listening "$1"; }  # PATH PID [WHAT]

declare -A ports_given=()
# free_port: a loopback TCP port nothing listens on or is bound to.
free_port() {
  local port _
  for _ in {1..200}; do
    port=$((20000 + RANDOM % 40000))
    [[ -z "${ports_given[$port]:-}" ]] || continue
    tcp_accepts "$port" && continue
    if command -v ss >/dev/null 2>&1 && [[ -n "$(ss -Htan "( sport = :$port )")" ]]; then continue; fi
    ports_given[$port]=1
    printf '%s\n' "$port"
    return 0
  done
  die "no free port found"
}

# ---- applications ------------------------------------------------------------------------

socket_inodes() {  # PID -> socket inodes of its open fds, one per line
  local fd target
  for fd in /proc/"$1"/fd/*; do
    target=$(readlink "$fd" 2>/dev/null) || continue
    [[ "$target" == socket:\[*\] ]] || continue
    target=${target#socket:[}
    printf '%s\n' "${target%]}"
  done
}

declare -A app_pid=()  # app label -> pid of the process holding the sockets

# start_app LABEL EXAMPLE unix PATH | tcp PORT: starts an example and waits until it listens.
# Unix sockets are made 0666: some peers (Apache) connect as www-data.
# INTEROP_STRACE=1 runs each app under strace, its reads and writes in $T/LABEL.strace: what
# the peer sent and what the app answered (keep the files with INTEROP_KEEP=1; each read or
# write shows its first INTEROP_STRACE_BYTES bytes, default 4096).
start_app() {
  local label=$1 example=$2 kind=$3 where=$4 endpoint
  case "$kind" in
    unix) endpoint=unix:$where ;;
    tcp) endpoint=tcp:127.0.0.1:$where ;;
    *) die "start_app: kind must be unix or tcp" ;;
  esac
  local -a command=("$examples_dir/$example" --listen "$endpoint")
  if [[ "${INTEROP_STRACE:-0}" == 1 ]]; then
    need_tool strace
    # shellcheck disable=SC2054  # the commas belong to strace's -e syntax
    command=(strace -f -qq -e trace=read,readv,write,writev,sendmsg,accept4,close -xx
      -s "${INTEROP_STRACE_BYTES:-4096}"
      -o "$T/$label.strace" "${command[@]}")
  fi
  start_bg "$label" "${command[@]}"
  if [[ "$kind" == unix ]]; then
    wait_unix "$where" "${pid_of[$label]}" "$label ($example on $where)"
    chmod 666 "$where"
  else
    wait_tcp "$where" "${pid_of[$label]}" "$label ($example on $endpoint)"
  fi
  app_pid[$label]=${pid_of[$label]}
  if [[ "${INTEROP_STRACE:-0}" == 1 ]]; then
    app_pid[$label]=$(child_of "${pid_of[$label]}") || die "$label: no app process under strace"
  fi
  remember_listeners "$label"
}

child_of() {  # PID -> the pid of its (first) child
  local stat_file stat rest ppid pid
  for stat_file in /proc/[0-9]*/stat; do
    stat=$(<"$stat_file") 2>/dev/null || continue
    rest=${stat##*) }
    read -r _ ppid _ <<<"$rest"
    pid=${stat_file#/proc/}
    [[ "$ppid" == "$1" ]] && printf '%s\n' "${pid%/stat}" && return 0
  done
  return 1
}

# remember_listeners LABEL: call while the app has no connection; later snapshots leave them out.
remember_listeners() {
  listener_inodes[$1]=" $(socket_inodes "${app_pid[$1]}" | tr '\n' ' ') "
}

# app_connections LABEL -> the inodes of the FastCGI connections the app holds now, one per line.
app_connections() {
  local label=$1 inode
  for inode in $(socket_inodes "${app_pid[$label]}"); do
    [[ "${listener_inodes[$label]}" == *" $inode "* ]] || printf '%s\n' "$inode"
  done
}

app_connection_count() { app_connections "$1" | wc -l; }

# wait_app_connections LABEL N: until the app holds exactly N connections (5 s deadline).
wait_app_connections() {
  local label=$1 want=$2 deadline=$((SECONDS + 5))
  while (($(app_connection_count "$label") != want)); do
    ((SECONDS < deadline)) || return 1
    sleep 0.02
  done
}

# app_log_clean LABEL [ALLOWED_REGEX]: the app logged nothing but its own stop (or lines
# matching ALLOWED_REGEX, a known peer quirk named by the caller). A request failure or a
# closed connection logged by the runtime means the peer sent something it rejected.
app_log_clean() {
  local label=$1 allowed=${2:-} unexpected
  unexpected=$(grep -v -E 'received SIG(TERM|INT), stopping gracefully' "$T/$label.log" |
    { if [[ -n "$allowed" ]]; then grep -v -E "$allowed"; else cat; fi; } || true)
  if [[ -n "$unexpected" ]]; then
    printf '  expected: no log lines from %s\n  got:\n%s\n' "$label" "    ${unexpected//$'\n'/$'\n'    }" >&2
    return 1
  fi
}

# ---- data --------------------------------------------------------------------------------

# pattern_file N PATH: writes the echo example's ?size=N body (byte i = i % 251).
pattern_file() {
  local size=$1 path=$2
  if [[ ! -x "$T/pattern" ]] && command -v cc >/dev/null 2>&1; then
    cc -O2 -o "$T/pattern" "$(dirname "${BASH_SOURCE[0]}")/pattern.c" 2>"$T/pattern-cc.log" || rm -f "$T/pattern"
  fi
  if [[ -x "$T/pattern" ]]; then
    "$T/pattern" "$size" >"$path"
  else
    need_tool perl
    perl -e '$b = join("", map { chr } 0 .. 250) x 261; $n = shift;
      while ($n > 0) { $k = $n < length($b) ? $n : length($b); print substr($b, 0, $k); $n -= $k }' \
      "$size" >"$path"
  fi
}

sha() { sha256sum "$1" | cut -d' ' -f1; }
tail_sha() { tail -c "$1" "$2" | sha256sum | cut -d' ' -f1; }  # N FILE
file_size() { stat -c %s "$1"; }

# body_file N PATH: N random bytes (random, so that a reordered or repeated block shows).
body_file() { head -c "$1" /dev/urandom >"$2"; }

# ---- HTTP --------------------------------------------------------------------------------

http_status=''
# http OUT CURL_ARGS...: body in OUT.body, response head in OUT.head, status in $http_status.
# `Expect:` is dropped so that a large POST does not wait a second for 100-continue.
http() {
  local out=$1
  shift
  http_status=$(curl -sS --max-time "${CURL_MAX_TIME:-20}" -H 'Expect:' \
    -o "$out.body" -D "$out.head" -w '%{http_code}' "$@" 2>"$out.err")
  local status=$?
  if ((status != 0)); then
    printf '  curl failed (exit %d): %s\n' "$status" "$(tr '\n' ' ' <"$out.err")" >&2
    return 1
  fi
}

header_value() {  # OUT NAME -> value of the first header NAME in OUT.head (case-insensitive)
  awk -v name="$2" '{ sub(/\r$/, "") }
    tolower(substr($0, 1, length(name) + 1)) == tolower(name) ":" {
      v = substr($0, length(name) + 2); sub(/^[ \t]+/, "", v); print v; exit }' "$1.head"
}

# ---- assertions --------------------------------------------------------------------------

expect_eq() {  # WHAT EXPECTED GOT
  if [[ "$2" != "$3" ]]; then
    printf '  %s\n    expected: %q\n    got:      %q\n' "$1" "$2" "$3" >&2
    return 1
  fi
}

expect_body() {  # OUT EXPECTED: the exact body (text)
  local got
  got=$(
    cat "$1.body"
    printf x  # $(...) strips trailing newlines; the x keeps them
  )
  expect_eq "response body" "$2" "${got%x}"
}

expect_status() {  # OUT EXPECTED: also shows the start of the body when it differs
  if [[ "$http_status" != "$2" ]]; then
    printf '  HTTP status\n    expected: %s\n    got:      %s\n    body starts: %q\n' \
      "$2" "$http_status" "$(head -c 300 "$1.body" 2>/dev/null)" >&2
    return 1
  fi
}

expect_line() {  # FILE LINE: FILE has LINE as a whole line
  if ! grep -qxF -- "$2" "$1"; then
    printf '  expected the line %q in the response; the param lines were:\n%s\n' "$2" \
      "$(grep -a -E '^[A-Za-z0-9_-]+=' "$1" | head -n 40 | cut -c1-120 | sed 's/^/    /')" >&2
    return 1
  fi
}

expect_no_line_matching() {  # FILE REGEX
  local found
  found=$(grep -a -E -- "$2" "$1" | head -n 3)
  if [[ -n "$found" ]]; then
    printf '  expected no line matching %q; got:\n%s\n' "$2" "    ${found//$'\n'/$'\n'    }" >&2
    return 1
  fi
}

# run_check NAME COMMAND...: runs one check, records PASS/FAIL and its time. Once the script
# has run for INTEROP_BUDGET seconds (default 35: with a 20 s curl limit, a script ends within
# a minute), the remaining checks fail without running.
run_check() {
  local name=$1
  shift
  if ((SECONDS - budget_started >= ${INTEROP_BUDGET:-35})); then
    results+=("FAIL|-|$name (not run: the ${INTEROP_BUDGET:-35} s budget is spent)")
    failures=$((failures + 1))
    return
  fi
  local start status
  start=$(now)
  log "check: $name"
  if "$@"; then status=PASS; else
    status=FAIL
    failures=$((failures + 1))
  fi
  local took
  took=$(elapsed_since "$start")
  results+=("$status|$took|$name")
  log "$status: $name (${took} s)"
}

# note NAME TEXT: an observation for docs/interop.md that is not a pass/fail check.
note() {
  results+=("NOTE|-|$1: $2")
  log "note: $1: $2"
}

interop_end() {
  local row status took name
  log "==== summary ($(elapsed_since "$script_started") s) ===="
  for row in "${results[@]}"; do
    IFS='|' read -r status took name <<<"$row"
    printf '[%s]   %-4s %6s s  %s\n' "$peer_name" "$status" "$took" "$name" >&2
  done
  if ((failures > 0)); then
    log "$failures check(s) FAILED"
    exit 1
  fi
  log "all checks passed"
  exit 0
}

# nginx_conf_head CONNECTIONS: the start of an nginx.conf that runs in the foreground from
# $T/nginx, up to the temp paths inside `http {`; the caller adds its upstreams and servers,
# then the closing brace.
nginx_conf_head() {
  # As root, the workers would run as nobody and could not reach the sockets in $T.
  if ((EUID == 0)); then echo 'user root;'; fi
  cat <<EOF
daemon off;
worker_processes 1;
pid $T/nginx/nginx.pid;
error_log stderr notice;
events { worker_connections $1; }
http {
  access_log off;
  client_body_temp_path $T/nginx/body;
  fastcgi_temp_path $T/nginx/fastcgi;
  proxy_temp_path $T/nginx/proxy;
  uwsgi_temp_path $T/nginx/uwsgi;
  scgi_temp_path $T/nginx/scgi;
EOF
}

# ---- the checks every peer runs ------------------------------------------------------------

# check_hello URL: the hello example's exact body.
check_hello() {
  local out=$T/hello
  http "$out" "$1" || return 1
  expect_status "$out" 200 || return 1
  expect_body "$out" $'Hello, world!\n'
}

# check_echo_get URL QUERY: echo sees a GET with that QUERY_STRING.
check_echo_get() {
  local out=$T/echo-get
  http "$out" "$1" || return 1
  expect_status "$out" 200 || return 1
  expect_eq "Content-Type" "text/plain" "$(header_value "$out" Content-Type)" || return 1
  expect_line "$out.body" "REQUEST_METHOD=GET" || return 1
  expect_line "$out.body" "QUERY_STRING=$2" || return 1
}

upload=''
upload_sha=''
make_upload() {
  if [[ -z "$upload" ]]; then
    upload=$T/upload.bin
    body_file "$ten_mib" "$upload"
    upload_sha=$(sha "$upload")
  fi
}

# check_post_10mib URL: a 10 MiB POST comes back verbatim as the last 10 MiB of echo's answer.
check_post_10mib() {
  local out=$T/post
  make_upload
  http "$out" -X POST -H 'Content-Type: application/octet-stream' --data-binary "@$upload" "$1" ||
    return 1
  expect_status "$out" 200 || return 1
  expect_line "$out.body" "CONTENT_LENGTH=$ten_mib" || return 1
  local size
  size=$(file_size "$out.body")
  if ((size < ten_mib)); then
    printf '  response body\n    expected: at least %d bytes (params + the upload)\n    got:      %d bytes\n' \
      "$ten_mib" "$size" >&2
    return 1
  fi
  expect_eq "sha256 of the last 10 MiB of the response" "$upload_sha" "$(tail_sha "$ten_mib" "$out.body")"
}

pattern=''
pattern_sha=''
# check_big_response URL: echo's ?size=10485760 answer, byte for byte.
check_big_response() {
  local out=$T/big
  if [[ -z "$pattern" ]]; then
    pattern=$T/pattern.bin
    pattern_file "$ten_mib" "$pattern"
    pattern_sha=$(sha "$pattern")
  fi
  http "$out" "$1" || return 1
  expect_status "$out" 200 || return 1
  # A front may re-frame the body (chunked) and drop the app's Content-Length; if it keeps
  # one, it must be the app's.
  local length
  length=$(header_value "$out" Content-Length)
  if [[ -n "$length" ]]; then
    expect_eq "Content-Length" "$ten_mib" "$length" || return 1
  else
    log "  (the front answered without Content-Length: $(header_value "$out" Transfer-Encoding))"
  fi
  expect_eq "body size" "$ten_mib" "$(file_size "$out.body")" || return 1
  expect_eq "sha256 of the body" "$pattern_sha" "$(sha "$out.body")"
}

# check_chunked_post URL EXPECTED_CONTENT_LENGTH_LINE: a 1 MiB chunked upload reaches echo whole.
# EXPECTED_CONTENT_LENGTH_LINE is the CONTENT_LENGTH line the peer is known to send ("" = none).
check_chunked_post() {
  local out=$T/chunked body=$T/chunked.bin
  body_file $((1024 * 1024)) "$body"
  http "$out" -X POST -H 'Transfer-Encoding: chunked' -H 'Content-Type: application/octet-stream' \
    --data-binary "@$body" "$1" || return 1
  expect_status "$out" 200 || return 1
  if [[ -n "$2" ]]; then
    expect_line "$out.body" "$2" || return 1
  else
    expect_no_line_matching "$out.body" '^CONTENT_LENGTH=' || return 1
  fi
  expect_eq "sha256 of the last 1 MiB of the response" "$(sha "$body")" \
    "$(tail_sha $((1024 * 1024)) "$out.body")"
}

# check_chunked_refused URL STATUS: a peer that cannot pass a 1 MiB chunked upload on answers
# STATUS itself; the answer must not come from the app (no echoed params). This pins a known
# peer limitation: if a later version passes the body, the check fails and the matrix is updated.
check_chunked_refused() {
  local out=$T/chunked body=$T/chunked.bin
  body_file $((1024 * 1024)) "$body"
  http "$out" -X POST -H 'Transfer-Encoding: chunked' -H 'Content-Type: application/octet-stream' \
    --data-binary "@$body" "$1" || return 1
  expect_status "$out" "$2" || return 1
  expect_no_line_matching "$out.body" '^REQUEST_METHOD='
}

# check_connection_reused APP URL_PREFIX: five sequential requests (URL_PREFIX?n=1 ...) travel
# over one kept FastCGI connection: the same socket stays open in the app from first to last.
check_connection_reused() {
  local app=$1 prefix=$2 first='' i now_held
  for i in 1 2 3 4 5; do
    http "$T/reuse-$i" "$prefix?n=$i" || return 1
    expect_status "$T/reuse-$i" 200 || return 1
    expect_line "$T/reuse-$i.body" "QUERY_STRING=n=$i" || return 1
    now_held=$(app_connections "$app" | tr '\n' ' ')
    [[ -n "$first" ]] || first=$now_held
    expect_eq "the app's connections after request $i (socket inodes)" "$first" "$now_held" || return 1
  done
  expect_eq "connections the app held across 5 requests" 1 "$(wc -w <<<"$first")"
}

# check_connection_per_request APP URL_PREFIX: after each of three sequential requests, the
# app holds no connection any more: nothing is kept, each request had its own.
check_connection_per_request() {
  local app=$1 prefix=$2 i
  for i in 1 2 3; do
    http "$T/single-$i" "$prefix?n=$i" || return 1
    expect_status "$T/single-$i" 200 || return 1
    wait_app_connections "$app" 0 ||
      expect_eq "the app's connections after request $i" 0 "$(app_connection_count "$app")" ||
      return 1
  done
}
