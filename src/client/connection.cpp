// One connection to the application: the socket, the client state machine, the reader that
// routes records to their calls, and the single writer.
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "pool.hpp"

#include <fcgi/runtime/socket_io.hpp>

namespace fcgi::client::detail {

namespace {

constexpr std::size_t read_buffer_size = 64 * 1024;

errc connect_error(const boost::system::error_code& ec) {
  if (ec == asio::error::connection_refused || ec == asio::error::not_found ||
      ec.value() == ENOENT || ec.value() == EACCES || ec.value() == ECONNREFUSED)
    return errc::refused;
  return errc::reset;
}

}  // namespace

void call_state::fail(errc code, std::string detail) {
  if (stage == phase::done) return;
  resp.error = code;
  resp.detail = std::move(detail);
  finish();
}

void call_state::restart() {
  resp = response{};
  stage = phase::queued;
  conn.reset();
  key = {};
  got_byte = false;
  sending = false;
  body_pipe = nullptr;
  done.reset();
}

void call_state::finish() {
  if (stage == phase::done) return;
  stage = phase::done;
  resp.total_time = clock::now() - started;
  done.fire();
}

connection::connection(pool& owner, const asio::any_io_executor& executor,
                       std::uint32_t max_requests)
    : owner_(owner),
      socket_(executor),
      protocol_(protocol::client_settings{.max_requests = max_requests}),
      max_requests_(max_requests),
      calls_(max_requests, nullptr) {}

asio::awaitable<errc> connection::open(const asio::generic::stream_protocol::endpoint& where,
                                       std::string& detail) {
  boost::system::error_code ec;
  co_await socket_.async_connect(where, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) {
    alive_ = false;
    detail = ec.message();
    co_return connect_timed_out ? errc::connect_timeout : connect_error(ec);
  }
  connect_deadline = clock::time_point::max();
  connected_ = true;
  if (where.protocol().family() != AF_UNIX) {
    // Requests are small writes that wait for an answer: Nagle would hold each one back.
    const int on = 1;
    ::setsockopt(socket_.native_handle(), IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
  }
  socket_.non_blocking(true, ec);
  read_buffer_.resize(read_buffer_size);
  asio::co_spawn(socket_.get_executor(), read_loop(shared_from_this()), asio::detached);
  co_return errc{};
}

bool connection::begin(call_state& call, bool keep_conn) {
  const auto key = protocol_.begin_request(call.req.role, keep_conn);
  if (!key) return false;
  call.key = key.value();
  call.conn = shared_from_this();
  calls_[call.key.id - 1U] = &call;
  call.resp.reused_connection = calls_here_ > 0;
  ++calls_here_;
  return true;
}

void connection::release(call_state& call) noexcept {
  if (call.key.id == 0 || call.key.id > calls_.size()) return;
  if (calls_[call.key.id - 1U] == &call) calls_[call.key.id - 1U] = nullptr;
}

bool connection::holds(const call_state& call) const noexcept {
  return call.key.id != 0 && call.key.id <= calls_.size() && calls_[call.key.id - 1U] == &call;
}

call_state* connection::call_for(protocol::request_key key) noexcept {
  if (key.id == 0 || key.id > calls_.size()) return nullptr;
  call_state* call = calls_[key.id - 1U];
  return call && call->key == key ? call : nullptr;
}

asio::awaitable<bool> connection::flush() {
  if (writing_) {
    wakeup turn(socket_.get_executor());
    writer_waiters_.push_back(&turn);
    co_await turn.wait();
    co_return alive_;
  }
  writing_ = true;
  if (multiplexed() && active() > 1) {
    // Let the other calls of this turn queue their records too: one sendmsg then carries
    // them all (at 256 calls on one connection: ~80 sendmsg per 20k requests instead of 19k).
    // Their own flush() waits for this one, which writes their bytes with ours.
    co_await asio::post(socket_.get_executor(), asio::use_awaitable);
  }
  protocol::output_queue& out = protocol_.output();
  while (alive_ && !out.empty()) {
    const runtime::write_outcome written = runtime::write_pending(socket_.native_handle(), out);
    if (written.error == 0) continue;
    if (written.error == EAGAIN) {
      boost::system::error_code ec;
      co_await socket_.async_wait(asio::socket_base::wait_write,
                                  asio::redirect_error(asio::use_awaitable, ec));
      if (!ec) continue;
      fail(errc::reset, "waiting to write: " + ec.message());
      break;
    }
    fail(errc::reset, std::string("write: ") + std::strerror(written.error));
  }
  writing_ = false;
  wake_writers();
  co_return alive_;
}

asio::awaitable<bool> connection::wait_output_below(std::size_t bytes) {
  // co_await kept out of conditions: GCC 12 miscompiles it there.
  while (alive_ && protocol_.output().size() > bytes) {
    const bool flushed = co_await flush();
    if (!flushed) break;
  }
  co_return alive_;
}

void connection::wake_writers() {
  std::vector<wakeup*> waiters;
  waiters.swap(writer_waiters_);
  for (wakeup* w : waiters) w->fire();
}

asio::awaitable<void> connection::read_loop(std::shared_ptr<connection> self) {
  while (alive_) {
    boost::system::error_code ec;
    const std::size_t n = co_await socket_.async_read_some(
        asio::buffer(read_buffer_), asio::redirect_error(asio::use_awaitable, ec));
    if (!alive_) break;
    if (ec == asio::error::eof) {
      fail(errc::closed_before_end, "the application closed the connection before END_REQUEST");
      break;
    }
    if (ec) {
      fail(errc::reset, "read: " + ec.message());
      break;
    }
    protocol::bytes_view input(read_buffer_.data(), n);
    for (;;) {
      const protocol::client_event event = protocol_.next_event(input);
      if (event.kind == protocol::client_event_kind::need_more) break;
      dispatch(event);
      if (!alive_) break;
    }
    if (alive_ && !protocol_.reusable() && active() == 0) close();
  }
  self.reset();
}

void connection::trace_event(const protocol::client_event& event) const {
  using kind = protocol::client_event_kind;
  std::string line = "[" + std::to_string(event.request.id) + "] < ";
  switch (event.kind) {
    case kind::stdout_chunk:
      line += "STDOUT " + std::to_string(event.bytes.size()) + " bytes";
      break;
    case kind::stderr_chunk:
      line += "STDERR " + std::to_string(event.bytes.size()) + " bytes";
      break;
    case kind::stdout_end: line += "STDOUT end"; break;
    case kind::stderr_end: line += "STDERR end"; break;
    case kind::request_ended:
      line += "END_REQUEST appStatus=" + std::to_string(event.end.app_status) +
              " protocolStatus=" + std::to_string(unsigned{event.end.protocol_status});
      break;
    case kind::values_result:
      line += "GET_VALUES_RESULT";
      for (const protocol::param& p : event.values)
        line += " " + std::string(p.name) + "=" + std::string(p.value);
      break;
    case kind::unknown_type:
      line += "UNKNOWN_TYPE " + std::to_string(unsigned{event.unknown_type});
      break;
    case kind::connection_error:
      line += "protocol violation: " + std::string(protocol::describe(event.error.code));
      break;
    case kind::need_more: return;
  }
  owner_.settings().trace(line);
}

void connection::dispatch(const protocol::client_event& event) {
  using kind = protocol::client_event_kind;
  if (owner_.settings().trace) trace_event(event);
  switch (event.kind) {
    case kind::stdout_chunk:
    case kind::stderr_chunk:
      if (call_state* call = call_for(event.request))
        on_stream_bytes(*call, event.bytes, event.kind == kind::stdout_chunk);
      break;
    case kind::request_ended:
      if (call_state* call = call_for(event.request)) {
        call->resp.ended = true;
        call->resp.app_status = event.end.app_status;
        call->resp.protocol_status =
            static_cast<protocol::protocol_status>(event.end.protocol_status);
        release(*call);
        call->finish();
      }
      if (active() == static_cast<std::size_t>(
                          std::count_if(calls_.begin(), calls_.end(), [](auto* c) { return c; })))
        abandon_deadline = clock::time_point::max();  // no aborted request is left
      owner_.on_slot_freed();
      break;
    case kind::values_result:
      if (probe_answer) {
        for (const protocol::param& p : event.values)
          probe_answer->values.emplace_back(std::string(p.name), std::string(p.value));
        answer_probe();
      }
      break;
    case kind::unknown_type:
      if (probe_answer && probe_wakeup) {
        probe_answer->error = errc::protocol_violation;
        probe_answer->detail = "the application answered UNKNOWN_TYPE to GET_VALUES";
        answer_probe();
      }
      break;
    case kind::connection_error:
      fail(errc::protocol_violation, std::string(protocol::describe(event.error.code)));
      break;
    case kind::stdout_end:
    case kind::stderr_end:
    case kind::need_more: break;
  }
}

void connection::answer_probe() {
  // Detached first: a close that follows the answer (php-fpm closes after GET_VALUES) must
  // not turn it into an error.
  wakeup* waiting = probe_wakeup;
  probe_answer = nullptr;
  probe_wakeup = nullptr;
  if (waiting) waiting->fire();
}

void connection::on_stream_bytes(call_state& call, protocol::bytes_view bytes, bool is_stdout) {
  if (call.stage == call_state::phase::done) return;  // failed; its abort is on its way
  const std::string_view text(reinterpret_cast<const char*>(bytes.data()),  // NOLINT: bytes as text
                              bytes.size());
  call.last_byte = clock::now();
  if (!call.got_byte) {
    call.got_byte = true;
    call.resp.first_byte_time = call.last_byte - call.started;
  }
  const pool_settings& limits = owner_.settings();
  response& resp = call.resp;
  if (is_stdout) {
    resp.out_bytes += text.size();
    if (call.req.on_stdout) {
      call.req.on_stdout(text);
    } else if (resp.out.size() + text.size() > limits.max_collected_stdout) {
      call.fail(errc::response_too_large, "STDOUT passed max_collected_stdout (" +
                                              std::to_string(limits.max_collected_stdout) +
                                              " bytes); stream it with request::on_stdout");
    } else {
      resp.out.append(text);
    }
    return;
  }
  resp.err_bytes += text.size();
  if (call.req.on_stderr) {
    call.req.on_stderr(text);
    return;
  }
  const std::size_t room =
      limits.max_collected_stderr - std::min(resp.err.size(), limits.max_collected_stderr);
  if (text.size() > room) resp.err_truncated = true;
  resp.err.append(text.substr(0, room));
}

void connection::fail(errc code, const std::string& detail) {
  if (!alive_) return;
  for (call_state*& call : calls_) {
    if (!call) continue;
    call_state* failed = call;
    call = nullptr;
    failed->fail(code, detail);
  }
  if (probe_answer && probe_wakeup) {
    if (!probe_answer->error) {
      probe_answer->error = code;
      probe_answer->detail = detail;
    }
    probe_wakeup->fire();
  }
  close();
}

void connection::close() noexcept {
  if (!alive_) return;
  alive_ = false;
  boost::system::error_code ignored;
  socket_.close(ignored);
  wake_writers();
  owner_.on_connection_closed(*this);
}

}  // namespace fcgi::client::detail
