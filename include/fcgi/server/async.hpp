// Coroutine handlers (C++20, Boost.Asio awaitables) for applications that stream their input
// or output, or that wait on other asynchronous services.
//
//   fcgi::async_responder(app, [](fcgi::async_request& req, fcgi::async_response& res)
//                                  -> boost::asio::awaitable<void> {
//     std::uint64_t sum = 0;
//     for (;;) {
//       const std::string_view chunk = co_await req.read_some();
//       if (chunk.empty()) break;
//       for (char c : chunk) sum += static_cast<unsigned char>(c);
//     }
//     res.header("Content-Type", "text/plain");
//     co_await res.send(std::to_string(sum) + "\n");
//   });
//
// A coroutine handler starts as soon as the request's params are complete and runs on the
// connection's I/O thread. It reads the body as it arrives; its output is held back until
// the body has ended (spilling to a temp file past `held_output_memory`), so a handler that
// echoes its input while reading it cannot deadlock against a front that sends the whole body
// before reading the response (Caddy) or stops sending it once it has a response head (nginx).
// After the body has ended, send() waits while the connection's unsent output exceeds
// `max_output_buffer`: a slow reader holds back only the producer writing to it.
//
// ABORT_REQUEST or a vanished web server cancels the coroutine: its pending operation (a
// timer, a read) completes with operation_aborted, reads return end-of-stream, writes fail.
#pragma once

#include <boost/asio/awaitable.hpp>

#include <functional>
#include <string_view>

#include <fcgi/server/request.hpp>
#include <fcgi/server/response.hpp>
#include <fcgi/server/server.hpp>

namespace fcgi {

namespace detail {
struct async_state;
}

class async_request : public request {
 public:
  async_request(protocol::role role, protocol::param_list params, bool keep_conn,
                detail::async_state& state) noexcept
      : request(role, params, keep_conn), state_(&state) {}

  /// The next bytes of the body; empty at its end (or once the request was aborted). The view
  /// is valid until the next read.
  boost::asio::awaitable<std::string_view> read_some();
  /// Reads the rest of the body into body() and returns it.
  boost::asio::awaitable<std::string_view> read_all();
  /// Filter: the next bytes of the DATA stream (after the body has ended); empty at its end.
  boost::asio::awaitable<std::string_view> read_data_some();

 private:
  detail::async_state* state_;
};

class async_response : public response {
 public:
  async_response(response_sink& sink, detail::async_state& state) noexcept
      : response(sink), state_(&state) {}

  /// Writes and then waits until the connection can take more. False once aborted.
  boost::asio::awaitable<bool> send(std::string_view bytes);
  /// Waits until this request's output is below the connection's bound.
  boost::asio::awaitable<void> drain();

 private:
  detail::async_state* state_;
};

using async_handler = std::function<boost::asio::awaitable<void>(async_request&, async_response&)>;

/// Registers a coroutine handler for a role (replacing any handler of that role).
void async_responder(server& app, async_handler handler);
void async_authorizer(server& app, async_handler handler);
void async_filter(server& app, async_handler handler);

}  // namespace fcgi
