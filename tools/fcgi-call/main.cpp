// fcgi-call: one FastCGI request from the shell, as curl does for HTTP and cgi-fcgi did for
// FastCGI. The command line becomes a fcgi::client call; the response body goes to stdout,
// the exit status says how the call ended (see --help).
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <iostream>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "options.hpp"
#include "output.hpp"

namespace {

namespace asio = boost::asio;
namespace fc = fcgi::client;

struct outcome {
  fc::response response;
  bool interrupted = false;
};

asio::awaitable<outcome> call_until_interrupted(fc::async_client& client, const fc::request& r) {
  using namespace asio::experimental::awaitable_operators;
  asio::signal_set signals(co_await asio::this_coro::executor, SIGINT, SIGTERM);
  auto first = co_await (client.call(r) || signals.async_wait(asio::use_awaitable));
  outcome result;
  if (first.index() == 0) {
    result.response = std::get<0>(std::move(first));
  } else {
    result.interrupted = true;
  }
  co_return result;
}

/// Closes the client (so the loop ends) once the ABORT_REQUEST of an interrupted call had a
/// moment to leave.
asio::awaitable<void> close_soon(fc::async_client& client, bool interrupted) {
  if (interrupted) {
    asio::steady_timer pause(co_await asio::this_coro::executor, std::chrono::milliseconds(100));
    co_await pause.async_wait(asio::use_awaitable);
  }
  client.close();
}

int run_values(asio::io_context& context, const fcgi_call::options& opts) {
  fc::async_client client(context.get_executor(), opts.endpoint, opts.pool);
  fc::values_answer answer;
  asio::co_spawn(context, client.get_values(opts.value_names, opts.values_timeout),
                 [&](std::exception_ptr e, fc::values_answer a) {
                   if (e) std::rethrow_exception(e);
                   answer = std::move(a);
                   client.close();
                 });
  context.run();
  return fcgi_call::print_values(answer);
}

int run_call(asio::io_context& context, fcgi_call::options& opts) {
  fcgi_call::response_printer printer(opts.print);
  opts.request.on_stdout = [&](std::string_view bytes) { printer.on_stdout(bytes); };
  opts.request.on_stderr = [&](std::string_view bytes) { printer.on_stderr(bytes); };
  fc::async_client client(context.get_executor(), opts.endpoint, opts.pool);
  outcome result;
  asio::co_spawn(context, call_until_interrupted(client, opts.request),
                 [&](std::exception_ptr e, outcome o) {
                   if (e) std::rethrow_exception(e);
                   result = std::move(o);
                   asio::co_spawn(context, close_soon(client, result.interrupted), asio::detached);
                 });
  context.run();
  if (result.interrupted) {
    std::fprintf(stderr, "fcgi-call: interrupted; ABORT_REQUEST sent\n");
    return fcgi_call::exit_interrupted;
  }
  return printer.finish(result.response);
}

}  // namespace

int main(int argc, char** argv) {
  std::optional<fcgi_call::options> opts = fcgi_call::parse(argc, argv);
  if (!opts) return fcgi_call::exit_usage;
  if (opts->exit_now) return opts->exit_status;
  std::signal(SIGPIPE, SIG_IGN);  // a closed stdout is reported, not fatal
  try {
    asio::io_context context(1);
    return opts->get_values ? run_values(context, *opts) : run_call(context, *opts);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fcgi-call: %s\n", e.what());
    return fcgi_call::exit_usage;
  }
}
