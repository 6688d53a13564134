#include "options.hpp"

#include <unistd.h>

#include <cstdio>
#include <iostream>

#include <CLI/CLI.hpp>

#include <fcgi/protocol/cgi_params.hpp>

namespace fcgi_call {

namespace {

namespace fc = fcgi::client;
namespace fp = fcgi::protocol;

constexpr const char* description = R"(Send one FastCGI request and print the response body.

fcgi-call talks to a FastCGI application directly, as a web server would: it builds the
CGI/1.1 params from a method, a URL and headers (like curl builds an HTTP request), sends
the body as STDIN, and writes the application's response body to stdout and its STDERR to
stderr. The response head (Status, Content-Type, ...) is parsed and checked; -i prints it.

ENDPOINT is unix:PATH, tcp:HOST:PORT, tcp:[IPV6]:PORT, or the shorthands /PATH and
HOST:PORT. TARGET is the request target, /path?query (default /).)";

constexpr const char* footer = R"(
Body sources (-d, --filter-data): a literal string, @FILE for a file, @- for stdin. A file
(or stdin redirected from a file) sets CONTENT_LENGTH; a pipe is streamed with no
CONTENT_LENGTH (pass -p CONTENT_LENGTH=N if the application needs it).

Exit status:
  0    END_REQUEST with REQUEST_COMPLETE, appStatus 0, a valid response head
  2    usage error (bad option, unreadable file, bad endpoint text)
  3    could not connect (refused, no such socket, connect timeout, unresolvable host)
  4    timed out (--max-time, --first-byte-timeout, --idle-timeout)
  5    the connection closed or broke before END_REQUEST
  6    the application broke the protocol, or its response head is invalid
  7    the application refused the request: OVERLOADED, CANT_MPX_CONN, UNKNOWN_ROLE
  8    the request ended with a non-zero appStatus
  9    status >= 400 with --fail; for --role authorizer, any status but 200 (denied)
  10   the application wrote to STDERR and --stderr fail was given
  11   the request body could not be read
  12   the response could not be written (-o file, closed stdout)
  130  interrupted by SIGINT/SIGTERM (ABORT_REQUEST was sent)

Examples:
  fcgi-call unix:/run/app.sock '/hello?name=x'
  fcgi-call -i 127.0.0.1:9000 /status
  fcgi-call -X POST -d @photo.jpg -H 'Content-Type: image/jpeg' unix:/run/app.sock /upload
  fcgi-call --script-filename /var/www/index.php unix:/run/php/php8.2-fpm.sock /index.php
  fcgi-call --role authorizer -H 'Authorization: Bearer x' unix:/run/auth.sock /private
  fcgi-call --get-values unix:/run/app.sock
  fcgi-call -v unix:/run/app.sock /   # trace records on stderr)";

fc::body_source body_from(const std::string& spec) {
  if (spec == "@-") {
    return fc::body_source::from_fd(::dup(STDIN_FILENO), true);
  }
  if (spec.starts_with("@")) return fc::body_source::from_file(spec.substr(1));
  return fc::body_source::from_string(spec);
}

fp::http_header header_from(const std::string& line) {
  const std::size_t colon = line.find(':');
  if (colon == std::string::npos || colon == 0)
    throw CLI::ValidationError("-H", "expected 'Name: value', got '" + line + "'");
  std::string value = line.substr(colon + 1);
  value.erase(0, value.find_first_not_of(" \t"));
  return {line.substr(0, colon), value};
}

std::pair<std::string, std::string> param_from(const std::string& text) {
  const std::size_t eq = text.find('=');
  if (eq == std::string::npos || eq == 0)
    throw CLI::ValidationError("-p", "expected NAME=VALUE, got '" + text + "'");
  return {text.substr(0, eq), text.substr(eq + 1)};
}

std::chrono::milliseconds seconds(double s) {
  return std::chrono::milliseconds(static_cast<long long>(s * 1000.0));
}

struct raw_options {
  std::string target = "/";
  std::string method;
  std::vector<std::string> headers;
  std::vector<std::string> params;
  std::string data;
  std::string filter_data;
  std::string role = "responder";
  std::string script_filename;
  std::string document_root;
  std::string script_name;
  std::string stderr_mode = "print";
  bool no_cgi = false;
  bool keep_conn = false;
  bool verbose = false;
  double connect_timeout = 5;
  double max_time = 0;
  double first_byte_timeout = 0;
  double idle_timeout = 0;
};

fp::role role_from(const std::string& name) {
  if (name == "responder") return fp::role::responder;
  if (name == "authorizer") return fp::role::authorizer;
  return fp::role::filter;
}

/// Turns the parsed strings into the request; throws CLI::ValidationError with the reason.
void build(const raw_options& raw, options& out) {
  fc::request& r = out.request;
  r.role = role_from(raw.role);
  if (!raw.data.empty()) r.body = body_from(raw.data);
  if (!raw.filter_data.empty()) {
    if (r.role != fp::role::filter)
      throw CLI::ValidationError("--filter-data",
                                 "only the filter role receives DATA; add --role filter");
    r.data = body_from(raw.filter_data);
  }
  std::vector<std::pair<std::string, std::string>> extra;
  for (const std::string& p : raw.params) extra.push_back(param_from(p));
  if (raw.no_cgi) {
    r.params = std::move(extra);
  } else {
    fp::cgi_request http;
    http.method = !raw.method.empty() ? raw.method : (raw.data.empty() ? "GET" : "POST");
    http.target = raw.target;
    for (const std::string& h : raw.headers) http.headers.push_back(header_from(h));
    if (const std::int64_t size = r.body.known_size(); size >= 0 && !raw.data.empty())
      http.content_length = static_cast<std::uint64_t>(size);
    http.script_name = raw.script_name;
    http.document_root = raw.document_root;
    http.script_filename = raw.script_filename;
    http.extra = std::move(extra);
    const fp::result<fp::cgi_params> built = fp::build_cgi_params(http);
    if (!built) throw CLI::ValidationError("TARGET", std::string(fp::describe(built.error())));
    for (const std::string& dropped : built.value().dropped_headers)
      std::fprintf(stderr,
                   "fcgi-call: header '%s' is not passed to the application (RFC 3875 "
                   "and httpoxy rules)\n",
                   dropped.c_str());
    for (const fp::cgi_param& p : built.value().params) r.params.emplace_back(p.name, p.value);
  }

  out.pool.mpx = fc::multiplexing::off;  // one request: no probe round trip
  out.pool.max_connections = 1;
  out.pool.keep_conn = raw.keep_conn;
  out.pool.timeouts.connect = seconds(raw.connect_timeout);
  out.pool.timeouts.total = seconds(raw.max_time);
  out.pool.timeouts.first_byte = seconds(raw.first_byte_timeout);
  out.pool.timeouts.idle = seconds(raw.idle_timeout);
  if (raw.verbose)
    out.pool.trace = [](std::string_view line) {
      std::fprintf(stderr, "%.*s\n", static_cast<int>(line.size()), line.data());
    };
  out.print.authorizer = r.role == fp::role::authorizer;
  out.print.head_request = raw.method == "HEAD";
  out.print.application_stderr = raw.stderr_mode == "ignore" ? stderr_mode::ignore
                                 : raw.stderr_mode == "fail" ? stderr_mode::fail
                                 : raw.stderr_mode == "raw"  ? stderr_mode::raw
                                                             : stderr_mode::print;
}

}  // namespace

std::optional<options> parse(int argc, char** argv) {
  CLI::App app(description, "fcgi-call");
  app.footer(footer);
  app.get_formatter()->column_width(34);
  options out;
  raw_options raw;

  app.add_option("ENDPOINT", out.endpoint, "Where the application listens")
      ->type_name("")
      ->required();
  app.add_option("TARGET", raw.target, "Request target: /path?query")
      ->type_name("")
      ->capture_default_str();

  auto* request = "Request";
  app.add_option("-X,--request", raw.method, "Method (default GET, or POST with -d)")
      ->type_name("METHOD")
      ->group(request);
  app.add_option("-H,--header", raw.headers, "Header (becomes HTTP_NAME)")
      ->type_name("'NAME: VALUE'")
      ->allow_extra_args(false)
      ->group(request);
  app.add_option("-d,--data", raw.data, "Body (STDIN): DATA, @FILE or @- for stdin")
      ->type_name("SOURCE")
      ->group(request);
  app.add_option("-p,--param", raw.params, "Raw param, added last (replaces a built one)")
      ->type_name("NAME=VALUE")
      ->allow_extra_args(false)
      ->group(request);
  app.add_flag("--no-cgi", raw.no_cgi, "Send only the -p params, no CGI variables")->group(request);
  app.add_option("--role", raw.role, "FastCGI role")
      ->type_name("ROLE")
      ->check(CLI::IsMember({"responder", "authorizer", "filter"}))
      ->capture_default_str()
      ->group(request);
  app.add_option("--filter-data", raw.filter_data, "Filter DATA stream: DATA, @FILE or @-")
      ->type_name("SOURCE")
      ->group(request);
  app.add_option("--script-filename", raw.script_filename,
                 "SCRIPT_FILENAME (php-fpm needs the script's path)")
      ->type_name("PATH")
      ->group(request);
  app.add_option("--document-root", raw.document_root,
                 "DOCUMENT_ROOT; SCRIPT_FILENAME = root + SCRIPT_NAME")
      ->type_name("DIR")
      ->group(request);
  app.add_option("--script-name", raw.script_name,
                 "Path prefix naming the script; the rest is PATH_INFO")
      ->type_name("PREFIX")
      ->group(request);

  auto* response = "Response";
  app.add_flag("-i,--include", out.print.include_head, "Print the response head before the body")
      ->group(response);
  app.add_flag("--raw", out.print.raw, "Print STDOUT exactly as received (head unparsed)")
      ->group(response);
  app.add_option("-o,--output", out.print.output_file, "Write the body to FILE")
      ->type_name("FILE")
      ->group(response);
  app.add_flag("-f,--fail", out.print.fail_on_error_status, "Exit 9 when the status is >= 400")
      ->group(response);
  app.add_option("--stderr", raw.stderr_mode,
                 "Application STDERR: print (to stderr, control bytes escaped), raw, ignore, "
                 "fail (exit 10)")
      ->type_name("MODE")
      ->check(CLI::IsMember({"print", "raw", "ignore", "fail"}))
      ->capture_default_str()
      ->group(response);

  auto* connection = "Connection";
  app.add_option("--connect-timeout", raw.connect_timeout, "Seconds to connect")
      ->type_name("SECONDS")
      ->capture_default_str()
      ->group(connection);
  app.add_option("-m,--max-time", raw.max_time, "Seconds for the whole call (0: no limit)")
      ->type_name("SECONDS")
      ->group(connection);
  app.add_option("--first-byte-timeout", raw.first_byte_timeout,
                 "Seconds to the first response byte (0: no limit)")
      ->type_name("SECONDS")
      ->group(connection);
  app.add_option("--idle-timeout", raw.idle_timeout, "Seconds the response may stall (0: no limit)")
      ->type_name("SECONDS")
      ->group(connection);
  app.add_flag("--keep-conn", raw.keep_conn, "Set FCGI_KEEP_CONN in BEGIN_REQUEST")
      ->group(connection);
  auto* values = app.add_flag("--get-values", out.get_values,
                              "Ask the limits (GET_VALUES) instead; print NAME=VALUE")
                     ->group(connection);
  app.add_option("--value", out.value_names, "With --get-values: a name to ask (repeatable)")
      ->type_name("NAME")
      ->needs(values)
      ->allow_extra_args(false)
      ->group(connection);
  app.add_flag("-v,--verbose", raw.verbose, "Trace records sent and received on stderr")
      ->group(connection);
  app.set_version_flag("--version", "fcgi-call (fcgikit) 0.1.0");

  try {
    app.parse(argc, argv);
    build(raw, out);
  } catch (const CLI::CallForHelp& e) {
    out.exit_now = true;
    out.exit_status = app.exit(e);
    return out;
  } catch (const CLI::CallForVersion& e) {
    out.exit_now = true;
    out.exit_status = app.exit(e);
    return out;
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    std::fprintf(stderr, "Run 'fcgi-call --help' for the options.\n");
    return std::nullopt;
  } catch (const std::system_error& e) {
    std::fprintf(stderr, "fcgi-call: %s\n", e.what());
    return std::nullopt;
  } catch (const std::invalid_argument& e) {
    std::fprintf(stderr, "fcgi-call: %s\n", e.what());
    return std::nullopt;
  }
  if (out.value_names.empty())
    out.value_names = {"FCGI_MAX_CONNS", "FCGI_MAX_REQS", "FCGI_MPXS_CONNS"};
  return out;
}

}  // namespace fcgi_call
