// fcgi-bench: load straight at a FastCGI application, without a web server in between.
// This file only reads the command line; the engine is in load.cpp, the report in report.cpp.
#include <cstdio>
#include <exception>
#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include <CLI/CLI.hpp>

#include "inputs.hpp"
#include "load.hpp"
#include "progress.hpp"
#include "report.hpp"

namespace {

using namespace fcgi::bench;

enum exit_status : int {
  exit_ok = 0,           ///< every measured request got a 2xx or 3xx response
  exit_failed = 1,       ///< a request failed or got another status (the report says which)
  exit_usage = 2,        ///< the command line is wrong; nothing was sent
  exit_unreachable = 3,  ///< the application could not be reached at all
};

struct cli_options {
  std::string endpoint;
  std::string target = "/";
  std::size_t concurrency = 32;
  std::size_t connections = 0;  ///< 0: decided from --mpx
  std::string mpx = "probe";
  bool close = false;
  unsigned threads = 1;
  std::string duration = "10s";
  std::uint64_t requests = 0;
  std::string warmup = "0";
  double rate = 0;
  std::string timeout = "10s";
  std::string method;
  std::vector<std::string> headers;
  std::vector<std::string> params;
  std::string param_file;
  bool no_cgi_params = false;
  std::optional<std::string> body;
  std::optional<std::string> filter_data;
  std::string role = "responder";
  bool json = false;
  bool no_progress = false;
};

const char* const footer = R"(Exit status:
  0  every measured request got a 2xx or 3xx response
  1  some request failed or got another status (the report counts them by kind)
  2  the command line is wrong
  3  the application could not be reached (nothing listens, or the endpoint is wrong)

Examples:
  fcgi-bench unix:/run/app.sock /hello                 32 in flight for 10 s
  fcgi-bench -c 256 --conns 1 --mpx on /run/app.sock   256 multiplexed on one connection
  fcgi-bench -R 5000 -d 30s --warmup 2s 127.0.0.1:9000 /api?id=7
  fcgi-bench -n 10000 -b @payload.json -H 'Content-Type: application/json' /run/app.sock /post
  fcgi-bench --json -d 5s /run/app.sock | jq .latency_ns.p99

See docs/fcgi-bench.md for every option and how to read the report.)";

std::string duration_check(const std::string& text) {
  try {
    parse_duration(text);
    return {};
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
}

void add_options(CLI::App& app, cli_options& o) {
  app.add_option("ENDPOINT", o.endpoint,
                 "The application: unix:PATH, /PATH, tcp:HOST:PORT or HOST:PORT")
      ->required()
      ->type_name("");
  app.add_option("TARGET", o.target, "The request target, PATH[?QUERY] (default /)")->type_name("");

  const std::string load = "Load";
  app.add_option("-c,--concurrency", o.concurrency,
                 "Requests in flight at once (default 32); with --rate, the most\n"
                 "that may be in flight")
      ->check(CLI::PositiveNumber)
      ->option_text("N")
      ->group(load);
  app.add_option("--conns", o.connections,
                 "Connections at most (default: the concurrency, or one per\n"
                 "thread with --mpx on)")
      ->check(CLI::PositiveNumber)
      ->option_text("N")
      ->group(load);
  app.add_option("--mpx", o.mpx,
                 "Multiplexing: probe asks the app (FCGI_MPXS_CONNS), on trusts\n"
                 "it, off never multiplexes (default probe)")
      ->check(CLI::IsMember({"probe", "on", "off"}))
      ->option_text("probe|on|off")
      ->group(load);
  app.add_flag("--close", o.close, "A new connection for every request (no FCGI_KEEP_CONN)")
      ->group(load);
  app.add_option("-t,--threads", o.threads,
                 "Threads, each with its own event loop and connections; the\n"
                 "concurrency and connections are split between them (default 1)")
      ->check(CLI::Range(1U, 1024U))
      ->option_text("N")
      ->group(load);
  app.add_option("-d,--duration", o.duration,
                 "How long to measure: 500ms, 10s, 1.5m, 1h (default 10s)")
      ->check(duration_check)
      ->option_text("TIME")
      ->group(load);
  app.add_option("-n,--requests", o.requests, "Stop after N measured requests (not --duration)")
      ->check(CLI::PositiveNumber)
      ->option_text("N")
      ->group(load);
  app.add_option("--warmup", o.warmup,
                 "Send requests for TIME first, without counting them (default 0)")
      ->check(duration_check)
      ->option_text("TIME")
      ->group(load);
  app.add_option("-R,--rate", o.rate,
                 "Open loop: N requests/s in total, at fixed intervals; latency\n"
                 "runs from each request's intended start (coordinated omission\n"
                 "corrected, as wrk2 does)")
      ->check(CLI::PositiveNumber)
      ->option_text("N")
      ->group(load);
  app.add_option("--timeout", o.timeout,
                 "A request not done within TIME fails as total_timeout; 0: never\n"
                 "(default 10s)")
      ->check(duration_check)
      ->option_text("TIME")
      ->group(load);

  const std::string request = "Request";
  app.add_option("-X,--method", o.method, "REQUEST_METHOD (default GET, or POST with a body)")
      ->option_text("METHOD")
      ->group(request);
  app.add_option("-H,--header", o.headers, "A header, sent as HTTP_NAME (repeatable)")
      ->option_text("'NAME: VALUE'")
      ->allow_extra_args(false)  // one value per -H: what follows may be the ENDPOINT
      ->group(request);
  app.add_option("-p,--param", o.params,
                 "A raw FastCGI param, applied after the CGI ones (repeatable)")
      ->option_text("NAME=VALUE")
      ->allow_extra_args(false)
      ->group(request);
  app.add_option("--param-file", o.param_file, "Raw params from FILE, one NAME=VALUE a line")
      ->option_text("FILE")
      ->group(request);
  app.add_flag("--no-cgi-params", o.no_cgi_params,
               "Send only the raw params, not the CGI/1.1 set built from the\n"
               "method, target and headers")
      ->group(request);
  app.add_option("-b,--body", o.body,
                 "The request body (STDIN): the bytes, @FILE or @- for stdin;\n"
                 "read once, before the run")
      ->option_text("DATA|@FILE")
      ->group(request);
  app.add_option("--filter-data", o.filter_data,
                 "The Filter role's DATA stream: the bytes, @FILE or @-")
      ->option_text("DATA|@FILE")
      ->group(request);
  app.add_option("--role", o.role, "The FastCGI role (default responder)")
      ->check(CLI::IsMember({"responder", "authorizer", "filter"}))
      ->option_text("responder|authorizer|filter")
      ->group(request);

  const std::string output = "Output";
  app.add_flag("--json", o.json, "The report as one JSON object on stdout")->group(output);
  app.add_flag("--no-progress", o.no_progress,
               "No progress line (shown on stderr once a second, only when\n"
               "stderr is a terminal)")
      ->group(output);
}

fcgi::client::multiplexing mpx_of(const std::string& name) {
  if (name == "on") return fcgi::client::multiplexing::on;
  if (name == "off") return fcgi::client::multiplexing::off;
  return fcgi::client::multiplexing::probe;
}

fcgi::protocol::role role_of(const std::string& name) {
  if (name == "authorizer") return fcgi::protocol::role::authorizer;
  if (name == "filter") return fcgi::protocol::role::filter;
  return fcgi::protocol::role::responder;
}

/// The request's inputs, from the options and the files they name. Throws
/// std::invalid_argument or std::system_error with a message for the user.
request_inputs inputs_of(const cli_options& o) {
  request_inputs in;
  in.method = o.method;
  in.target = o.target;
  for (const std::string& h : o.headers) in.headers.push_back(parse_header(h));
  if (!o.param_file.empty()) in.raw_params = read_param_file(o.param_file);
  for (const std::string& p : o.params) in.raw_params.push_back(parse_param(p));
  in.cgi = !o.no_cgi_params;
  in.role = role_of(o.role);
  if (o.body) in.body = read_body_argument(*o.body);
  if (o.filter_data) in.filter_data = read_body_argument(*o.filter_data);
  if (in.filter_data && in.role != fcgi::protocol::role::filter)
    throw std::invalid_argument("--filter-data is sent only with --role filter");
  return in;
}

load_plan plan_of(const cli_options& o, const request_inputs& in) {
  load_plan plan;
  plan.endpoint = o.endpoint;
  plan.request = make_request(in, build_params(in));
  plan.threads = o.threads;
  plan.concurrency = o.concurrency;
  // Without FCGI_KEEP_CONN the application closes the connection after one request: nothing
  // to multiplex, and no probe to wait for.
  plan.mpx = o.close ? fcgi::client::multiplexing::off : mpx_of(o.mpx);
  plan.connections = o.connections > 0                            ? o.connections
                     : plan.mpx == fcgi::client::multiplexing::on ? o.threads
                                                                  : o.concurrency;
  plan.keep_conn = !o.close;
  plan.duration = parse_duration(o.duration);
  plan.requests = o.requests;
  plan.warmup = parse_duration(o.warmup);
  plan.rate = o.rate;
  plan.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(parse_duration(o.timeout));
  if (plan.concurrency < plan.threads || plan.connections < plan.threads) {
    throw std::invalid_argument("--concurrency and --conns must be at least --threads (" +
                                std::to_string(plan.threads) +
                                "): each thread has requests and connections of its own");
  }
  return plan;
}

int run(const cli_options& o) {
  request_inputs inputs;
  load_plan plan;
  try {
    inputs = inputs_of(o);
    plan = plan_of(o, inputs);
  } catch (const std::exception& e) {
    std::cerr << "fcgi-bench: " << e.what() << "\n";
    return exit_usage;
  }
  // The body and DATA views in plan.request point into `inputs`, which outlives the run.
  progress_line progress;
  progress_sink sink;
  if (!o.no_progress && progress_line::stderr_is_terminal())
    sink = [&progress](const progress_snapshot& s) { progress.show(s); };
  run_result result;
  try {
    result = run_load(plan, sink);
  } catch (const std::invalid_argument& e) {
    std::cerr << "fcgi-bench: " << e.what() << "\n";
    return exit_usage;
  }
  progress.clear();
  if (result.unreachable) {
    std::cerr << "fcgi-bench: cannot reach the application: " << *result.unreachable << "\n";
    return exit_unreachable;
  }
  const report_context context{plan, inputs.cgi ? method_of(inputs) : "", inputs.target};
  std::cout << (o.json ? json_report(context, result) : text_report(context, result));
  std::cout.flush();
  return all_ok(result.totals) ? exit_ok : exit_failed;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    CLI::App app(
        "Load straight at a FastCGI application, without a web server in between: a closed\n"
        "loop (-c requests in flight) or an open loop (-R requests/s), then requests/s,\n"
        "failures by kind and latency percentiles.",
        "fcgi-bench");
    app.footer(footer);
    app.get_formatter()->column_width(34);
    cli_options options;
    add_options(app, options);
    try {
      app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
      const int code = app.exit(e);
      return code == 0 ? 0 : exit_usage;
    }
    return run(options);
  } catch (const std::exception& e) {
    std::cerr << "fcgi-bench: " << e.what() << "\n";
    return exit_failed;
  }
}
