#include <fcgi/server/async.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <cerrno>
#include <cstdlib>

#include "async_state.hpp"
#include "worker.hpp"

namespace fcgi {
namespace detail {
namespace {

/// Parks a coroutine on a timer used as an event: cancel() wakes it (any error is expected).
boost::asio::awaitable<void> wait_signal(boost::asio::steady_timer& signal) {
  signal.expires_at(boost::asio::steady_timer::time_point::max());
  boost::system::error_code ignored;
  co_await signal.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ignored));
}

int open_spill_file() {
  const char* dir = std::getenv("TMPDIR");
  const std::string folder = dir != nullptr && *dir != '\0' ? dir : "/tmp";
  return ::open(folder.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
}

}  // namespace

held_output::~held_output() {
  if (file_ >= 0) ::close(file_);
}

bool held_output::append(std::string_view bytes, std::size_t memory_limit) {
  if (file_ < 0 && memory_.size() + bytes.size() <= memory_limit) {
    memory_.append(bytes);
    return true;
  }
  if (file_ < 0 && (file_ = open_spill_file()) < 0) return false;
  while (!bytes.empty()) {
    const ssize_t n = ::pwrite(file_, bytes.data(), bytes.size(), static_cast<off_t>(written_));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    written_ += static_cast<std::uint64_t>(n);
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

bool held_output::read_spilled(std::string& out, std::size_t max) {
  const auto count = static_cast<std::size_t>(std::min<std::uint64_t>(max, written_ - read_));
  out.resize(count);
  std::size_t have = 0;
  while (have < count) {
    const ssize_t n =
        ::pread(file_, out.data() + have, count - have, static_cast<off_t>(read_ + have));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    have += static_cast<std::size_t>(n);
  }
  read_ += count;
  if (read_ == written_) {  // all sent: later output goes straight out again
    ::close(file_);
    file_ = -1;
    read_ = written_ = 0;
  }
  return true;
}

async_state::async_state(connection& c, protocol::request_key request_key, protocol::role role,
                         protocol::param_list params_view, bool keep_conn,
                         boost::asio::io_context& io)
    : owner(c.weak_from_this()),
      key(request_key),
      input_signal(io),
      output_signal(io),
      params(params_view.raw().begin(), params_view.raw().end()),
      req(role, protocol::param_list(params), keep_conn, *this),
      res(output_sink, *this) {}

void async_state::wake_readers() { input_signal.cancel(); }
void async_state::wake_writers() { output_signal.cancel(); }

void async_state::abort() {
  if (aborted) return;
  aborted = true;
  cancel.emit(boost::asio::cancellation_type::terminal);
  wake_readers();
  wake_writers();
}

bool async_state::sink::write_stdout(std::string_view bytes) {
  const auto c = state_.owner.lock();
  if (!c || state_.aborted) return false;
  // Until the body has ended the output is held (see async.hpp); after, it is held only while
  // earlier held bytes are still being sent, to keep the order.
  if (!state_.released || !state_.held.empty()) {
    if (!state_.held.append(bytes, c->config().held_output_memory)) {
      c->shared().log("cannot write held output to a temp file: request aborted");
      state_.abort();
      return false;
    }
    if (state_.released) c->pump_held_output(state_);
    return true;
  }
  return c->write_stdout(state_.key, bytes);
}

bool async_state::sink::write_stderr(std::string_view bytes) {
  const auto c = state_.owner.lock();
  return c && !state_.aborted && c->write_stderr(state_.key, bytes);
}

void async_state::sink::end(std::uint32_t app_status) {
  const auto c = state_.owner.lock();
  if (!c) return;
  state_.end_status = app_status;
  // Ending releases the output even before the body ended: the rest of it is ignored.
  state_.released = true;
  c->pump_held_output(state_);
}

bool async_state::sink::aborted() const noexcept {
  return state_.aborted || state_.owner.expired();
}

boost::asio::awaitable<void> run_coroutine(std::shared_ptr<async_state> state,
                                           async_handler handler, shared_state* shared) {
  std::uint32_t status = 0;
  try {
    co_await handler(state->req, state->res);
  } catch (const std::exception& e) {
    if (!state->aborted) {
      shared->log(std::string("handler threw: ") + e.what() + " (" +
                  std::string(state->req.script_name()) + ")");
    }
    status = 1;
  } catch (...) {  // co_spawn's detached completion would swallow it and never end the request
    if (!state->aborted) {
      shared->log("handler threw a non-exception (" + std::string(state->req.script_name()) + ")");
    }
    status = 1;
  }
  if (status != 0 && !state->res.ended() && !state->aborted) {
    if (!state->res.head_sent()) {
      state->res.status(500, "Internal Server Error").header("Content-Type", "text/plain");
    }
    state->res.error_log("fcgikit: the request handler failed\n");
  }
  state->res.end(status);
  // Asio 1.81's co_spawn posts once more after a coroutine that never suspended; if it was
  // cancelled (its peer reset mid-write), that post throws out of io_context::run() and stops
  // the I/O thread. Nothing is left to interrupt here.
  co_await boost::asio::this_coro::throw_if_cancelled(false);
}

void register_async(server& app, protocol::role role, async_handler handler) {
  app.implementation().shared.async_handlers[static_cast<std::size_t>(role)] = std::move(handler);
}

}  // namespace detail

boost::asio::awaitable<std::string_view> async_request::read_some() {
  detail::async_state& s = *state_;
  while (s.input.empty() && !s.input_ended && !s.aborted)
    co_await detail::wait_signal(s.input_signal);
  s.reading.swap(s.input);
  s.input.clear();
  if (const auto c = s.owner.lock()) c->pump_held_output(s);  // may resume paused reads
  co_return std::string_view(s.reading);
}

boost::asio::awaitable<std::string_view> async_request::read_all() {
  for (;;) {
    const std::string_view chunk = co_await read_some();
    if (chunk.empty()) break;
    body_buffer().append(chunk);
  }
  co_return body();
}

boost::asio::awaitable<std::string_view> async_request::read_data_some() {
  detail::async_state& s = *state_;
  while (s.data.empty() && !s.data_ended && !s.aborted)
    co_await detail::wait_signal(s.input_signal);
  s.reading.swap(s.data);
  s.data.clear();
  co_return std::string_view(s.reading);
}

boost::asio::awaitable<bool> async_response::send(std::string_view bytes) {
  if (!write(bytes)) co_return false;
  co_await drain();
  co_return !aborted();
}

boost::asio::awaitable<void> async_response::drain() {
  detail::async_state& s = *state_;
  for (;;) {
    const auto c = s.owner.lock();
    if (!c || s.aborted || !s.released) co_return;  // held output never waits (see async.hpp)
    if (s.held.empty() && c->output_size() <= c->config().max_output_buffer) co_return;
    co_await detail::wait_signal(s.output_signal);
  }
}

void async_responder(server& app, async_handler handler) {
  detail::register_async(app, protocol::role::responder, std::move(handler));
}
void async_authorizer(server& app, async_handler handler) {
  detail::register_async(app, protocol::role::authorizer, std::move(handler));
}
void async_filter(server& app, async_handler handler) {
  detail::register_async(app, protocol::role::filter, std::move(handler));
}

}  // namespace fcgi
