#!/usr/bin/env bash
# Apache httpd in front of the examples, with every FastCGI client it ships:
#   mod_proxy_fcgi  /hello, /echo (a new connection per request, the default) and /keep/
#                   (`enablereuse=on`, a second echo instance so its connections can be counted);
#   mod_authnz_fcgi /auth/: echo as a generic Authorizer (TCP only), then mod_proxy_fcgi serves
#                   the request; the authorizer's Variable- header becomes the user and a param;
#   mod_fcgid       /fcgid/ (when installed): Apache starts echo itself with the listening
#                   socket on fd 0, and /fcgid-auth/ uses it as an access checker (Authorizer).
# The children run as www-data: the sockets are 0666 and the temp folder 0755.
# shellcheck disable=SC2317  # check functions are called through run_check
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
interop_begin apache "${1:-}"
require_bin apache2 curl
modules=/usr/lib/apache2/modules
[[ -r $modules/mod_proxy_fcgi.so ]] || skip "mod_proxy_fcgi is not installed"
have_authnz_fcgi=false
[[ -r $modules/mod_authnz_fcgi.so ]] && have_authnz_fcgi=true
have_fcgid=false
[[ -r $modules/mod_fcgid.so ]] && have_fcgid=true

start_app hello hello unix "$T/hello.sock"
start_app echo echo unix "$T/echo.sock"
start_app echo_keep echo unix "$T/echo-keep.sock"
if $have_authnz_fcgi; then
  auth_port=$(free_port)
  start_app echo_auth echo tcp "$auth_port"
fi

port=$(free_port)
mkdir -p "$T/apache/fcgid-ipc" "$T/apache/logs" "$T/fcgid"
# As root, Apache's children switch to www-data, which must own mod_fcgid's IPC folder.
run_as=''
if ((EUID == 0)); then
  run_as=$'User www-data\nGroup www-data'
  chown www-data "$T/apache/fcgid-ipc"
fi
cat >"$T/apache/httpd.conf" <<EOF
ServerRoot $T/apache
ServerName localhost
Listen 127.0.0.1:$port
PidFile $T/apache/httpd.pid
ErrorLog /dev/stderr
LogLevel warn
TypesConfig /etc/mime.types
$run_as
# One child: the reuse check needs every request to go through the same connection pool.
StartServers 1
ServerLimit 1
ThreadsPerChild 16
MaxRequestWorkers 16
MinSpareThreads 1
MaxSpareThreads 16
LoadModule mpm_event_module $modules/mod_mpm_event.so
LoadModule authz_core_module $modules/mod_authz_core.so
LoadModule authz_user_module $modules/mod_authz_user.so
LoadModule authn_core_module $modules/mod_authn_core.so
LoadModule alias_module $modules/mod_alias.so
LoadModule mime_module $modules/mod_mime.so
LoadModule proxy_module $modules/mod_proxy.so
LoadModule proxy_fcgi_module $modules/mod_proxy_fcgi.so

ProxyPass "/hello" "unix:$T/hello.sock|fcgi://hello/"
ProxyPass "/echo" "unix:$T/echo.sock|fcgi://echo/"
ProxyPass "/keep/" "unix:$T/echo-keep.sock|fcgi://keep/" enablereuse=on
ProxyPass "/auth/" "unix:$T/echo.sock|fcgi://echo/"
<Location "/">
  ProxyFCGIBackendType GENERIC
</Location>
EOF
if $have_authnz_fcgi; then
  cat >>"$T/apache/httpd.conf" <<EOF
LoadModule authnz_fcgi_module $modules/mod_authnz_fcgi.so
AuthnzFcgiDefineProvider authnz echo_auth fcgi://127.0.0.1:$auth_port/
<Location "/auth/">
  AuthnzFcgiCheckAuthnProvider echo_auth Authoritative On RequireBasicAuth Off UserExpr "%{reqenv:ECHO-AUTHORIZED}"
  Require valid-user
</Location>
EOF
fi
if $have_fcgid; then
  # A copy, so that www-data can run it whatever the build folder's permissions.
  cp "$examples_dir/echo" "$T/fcgid/echo.fcgi"
  mkdir -p "$T/fcgid-auth"
  : >"$T/fcgid-auth/page"
  cat >>"$T/apache/httpd.conf" <<EOF
LoadModule fcgid_module $modules/mod_fcgid.so
FcgidIPCDir $T/apache/fcgid-ipc
FcgidProcessTableFile $T/apache/fcgid-ipc/shm
FcgidMaxRequestLen 67108864
Alias /fcgid/ $T/fcgid/
<Directory $T/fcgid>
  Options +ExecCGI
  SetHandler fcgid-script
  Require all granted
</Directory>
Alias /fcgid-auth/ $T/fcgid-auth/
<Directory $T/fcgid-auth>
  FcgidAccessChecker $T/fcgid/echo.fcgi
  Require all granted
</Directory>
EOF
fi
start_bg apache apache2 -d "$T/apache" -f "$T/apache/httpd.conf" -DFOREGROUND
wait_tcp "$port" "${pid_of[apache]}" apache
base=http://127.0.0.1:$port

# Both Authorizer clients send BEGIN_REQUEST and PARAMS, then nothing: spec 6.3 gives the
# Authorizer no FCGI_STDIN. 8 s is ample for a loopback answer and keeps a hang short.
authorizer_request() {  # OUT URL
  CURL_MAX_TIME=8 http "$1" "$2" && return 0
  printf '  no answer: an app that waits for FCGI_STDIN before it runs the Authorizer hangs here\n' >&2
  return 1
}

check_authnz_fcgi() {
  local out=$T/auth
  authorizer_request "$out" "$base/auth/page?who=me" || return 1
  expect_status "$out" 200 || return 1
  expect_line "$out.body" "QUERY_STRING=who=me" || return 1
  expect_line "$out.body" "REMOTE_USER=yes" || return 1
  expect_line "$out.body" "ECHO-AUTHORIZED=yes"
}

check_fcgid() {
  local out=$T/fcgid
  http "$out" "$base/fcgid/echo.fcgi?from=fcgid" || return 1
  expect_status "$out" 200 || return 1
  expect_line "$out.body" "QUERY_STRING=from=fcgid"
}

# mod_fcgid's access checker passes the request on when the app answers 200; the static file
# is then served as usual (empty).
check_fcgid_access_checker() {
  local out=$T/fcgid-auth
  authorizer_request "$out" "$base/fcgid-auth/page" || return 1
  expect_status "$out" 200 || return 1
  expect_body "$out" ""
}

run_check "GET /hello exact body" check_hello "$base/hello"
run_check "GET /echo params" check_echo_get "$base/echo?x=1&y=2" 'x=1&y=2'
run_check "POST 10 MiB echoed" check_post_10mib "$base/echo"
run_check "10 MiB response" check_big_response "$base/echo?size=$ten_mib"
run_check "POST 10 MiB echoed (enablereuse)" check_post_10mib "$base/keep/"
run_check "10 MiB response (enablereuse)" check_big_response "$base/keep/?size=$ten_mib"
# Apache streams a chunked body and sends no CONTENT_LENGTH; the app reads STDIN to its end.
run_check "chunked POST 1 MiB (no CONTENT_LENGTH)" check_chunked_post "$base/echo" ""
run_check "enablereuse: 5 sequential requests on 1 connection" check_connection_reused echo_keep "$base/keep/"
run_check "no reuse: connection closed after each request" check_connection_per_request echo "$base/echo"
if $have_authnz_fcgi; then
  run_check "mod_authnz_fcgi Authorizer then Responder" check_authnz_fcgi
else
  note "mod_authnz_fcgi" "not installed, Authorizer not checked"
fi
if $have_fcgid; then
  run_check "mod_fcgid starts the app on fd 0" check_fcgid
  run_check "mod_fcgid FcgidAccessChecker (Authorizer)" check_fcgid_access_checker
else
  note "mod_fcgid" "not installed (libapache2-mod-fcgid), fd 0 start-up not checked"
fi
run_check "hello app logged nothing" app_log_clean hello
run_check "echo app logged nothing" app_log_clean echo
run_check "echo (enablereuse) app logged nothing" app_log_clean echo_keep
if $have_authnz_fcgi; then run_check "echo (authorizer) app logged nothing" app_log_clean echo_auth; fi
interop_end
