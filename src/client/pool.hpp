// The pool behind both client APIs: connections to one endpoint, the multiplexing decision,
// waiting calls, and the deadline sweep. Everything runs on one executor, so nothing here
// locks.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/generic/stream_protocol.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <fcgi/client/errc.hpp>
#include <fcgi/client/request.hpp>
#include <fcgi/protocol/client_connection.hpp>
#include <fcgi/runtime/endpoint.hpp>

namespace fcgi::client::detail {

namespace asio = boost::asio;
using clock = std::chrono::steady_clock;

/// A one-shot wake-up for a suspended coroutine: the waker may fire before or after the
/// waiter suspends. The resumption is posted, never run inside the waker.
class wakeup {
 public:
  explicit wakeup(asio::any_io_executor executor) : executor_(std::move(executor)) {}
  asio::awaitable<void> wait();
  void fire();
  void reset() noexcept { fired_ = false; }
  [[nodiscard]] bool fired() const noexcept { return fired_; }
  /// Runs when the waiting coroutine is cancelled (e.g. by `||` with a timer); it must lead
  /// to fire().
  std::function<void()> on_cancel;

 private:
  /// The suspended coroutine's completion handler, type-erased (Boost 1.81's
  /// any_completion_handler recurses when moved into asio::post).
  struct resumer {
    virtual ~resumer() = default;
    virtual void resume() = 0;
  };
  template <class Handler>
  struct resumer_of final : resumer {
    explicit resumer_of(Handler&& h) : handler(std::move(h)) {}
    void resume() override { std::move(handler)(); }
    Handler handler;
  };

  asio::any_io_executor executor_;
  std::unique_ptr<resumer> handler_;
  asio::cancellation_slot slot_;
  bool fired_ = false;
};

class connection;
class pool;

/// One call from acquiring a connection to its END_REQUEST (or failure).
struct call_state {
  enum class phase : std::uint8_t { queued, connecting, running, done };

  call_state(const request& r, response& out, asio::any_io_executor executor)
      : req(r), resp(out), done(std::move(executor)) {}

  const request& req;
  response& resp;
  wakeup done;
  phase stage = phase::queued;
  std::shared_ptr<connection> conn;
  protocol::request_key key;
  clock::time_point started = clock::now();
  clock::time_point sent;       ///< when BEGIN_REQUEST was queued
  clock::time_point last_byte;  ///< of this call's response
  bool got_byte = false;
  bool sending = false;             ///< the request is not wholly queued and written yet
  std::size_t in_flight_index = 0;  ///< where the pool's in_flight_ list holds it
  asio::posix::stream_descriptor* body_pipe = nullptr;  ///< a body read in progress

  /// Records the failure (the first one wins) and wakes the call.
  void fail(errc code, std::string detail);
  void finish();
  /// Back to the start, to be sent again (nothing of its response had arrived).
  void restart();
};

class connection : public std::enable_shared_from_this<connection> {
 public:
  connection(pool& owner, const asio::any_io_executor& executor, std::uint32_t max_requests);

  /// Connects (unix or TCP), then starts the reader. Sets `error`/`detail` on failure.
  asio::awaitable<errc> open(const asio::generic::stream_protocol::endpoint& where,
                             std::string& detail);
  /// Writes everything queued; one writer at a time, the others wait for it to finish.
  asio::awaitable<bool> flush();
  /// Waits until the queued output is at most `bytes` (or the connection failed).
  asio::awaitable<bool> wait_output_below(std::size_t bytes);
  /// Starts `call` on this connection (BEGIN_REQUEST queued); false when the state machine
  /// refuses (no free id).
  bool begin(call_state& call, bool keep_conn);
  /// Forgets `call` (done, or given up): its later records are dropped.
  void release(call_state& call) noexcept;
  [[nodiscard]] bool holds(const call_state& call) const noexcept;
  /// Fails every call on the connection and closes the socket.
  void fail(errc code, const std::string& detail);
  void close() noexcept;

  [[nodiscard]] bool alive() const noexcept { return alive_; }
  [[nodiscard]] bool usable() const noexcept {
    return alive_ && connected_ && protocol_.reusable();
  }
  [[nodiscard]] std::size_t active() const noexcept { return protocol_.active_requests(); }
  [[nodiscard]] std::size_t calls_here() const noexcept { return calls_here_; }
  [[nodiscard]] bool multiplexed() const noexcept { return max_requests_ > 1; }
  protocol::client_connection& protocol() noexcept { return protocol_; }

  /// Set when this connection only carries the GET_VALUES probe.
  values_answer* probe_answer = nullptr;
  wakeup* probe_wakeup = nullptr;
  clock::time_point connect_deadline = clock::time_point::max();
  /// Set while an aborted request has not ended: past it, the connection is closed.
  clock::time_point abandon_deadline = clock::time_point::max();
  bool connect_timed_out = false;

 private:
  asio::awaitable<void> read_loop(std::shared_ptr<connection> self);
  void dispatch(const protocol::client_event& event);
  void answer_probe();
  void trace_event(const protocol::client_event& event) const;
  void on_stream_bytes(call_state& call, protocol::bytes_view bytes, bool is_stdout);
  call_state* call_for(protocol::request_key key) noexcept;
  void wake_writers();

  pool& owner_;
  asio::generic::stream_protocol::socket socket_;
  protocol::client_connection protocol_;
  std::uint32_t max_requests_;
  std::vector<call_state*> calls_;  ///< index: request id - 1
  std::vector<std::byte> read_buffer_;
  std::vector<wakeup*> writer_waiters_;
  bool writing_ = false;
  bool alive_ = true;
  bool connected_ = false;
  std::size_t calls_here_ = 0;
};

class pool : public std::enable_shared_from_this<pool> {
 public:
  pool(asio::any_io_executor executor, std::string_view endpoint, pool_settings settings);

  asio::awaitable<response> call(const request& r);
  asio::awaitable<values_answer> get_values(std::vector<std::string> names,
                                            std::chrono::milliseconds timeout);
  void close();
  [[nodiscard]] pool_stats stats() const;

  // For connections.
  void on_slot_freed();
  void on_connection_closed(connection& c);
  [[nodiscard]] const pool_settings& settings() const noexcept { return settings_; }
  [[nodiscard]] const asio::any_io_executor& executor() const noexcept { return executor_; }

 private:
  asio::awaitable<std::shared_ptr<connection>> acquire(call_state& call);
  asio::awaitable<void> run(call_state& call);
  asio::awaitable<bool> send_body(call_state& call, const body_source& body, bool data_stream);
  asio::awaitable<errc> open_connection(const std::shared_ptr<connection>& c, std::string& detail);
  asio::awaitable<void> probe();
  [[nodiscard]] std::shared_ptr<connection> pick_connection() const;
  [[nodiscard]] std::uint32_t requests_per_connection() const noexcept;
  [[nodiscard]] std::size_t connection_limit() const noexcept;
  /// True when `call` failed only because the kept connection it ran on was already closing
  /// and it may be sent again (see call()).
  [[nodiscard]] bool may_retry(const call_state& call) const;
  /// Takes a call off the in-flight and waiting lists.
  void forget(call_state& call) noexcept;
  /// Wakes the first waiting call that has not ended; false when none waits.
  bool wake_one_waiter();
  /// Wakes as many waiting calls as the open connections and the connection limit can take.
  void wake_waiters_that_fit();
  /// Requests the pool could start now: free ids on usable connections plus connections it
  /// may still open.
  [[nodiscard]] std::size_t free_slots() const noexcept;
  void trace(const call_state& call, const std::string& line) const;
  void start_sweep();
  asio::awaitable<void> sweep_loop(std::shared_ptr<pool> self);
  void sweep(clock::time_point now);
  void expire(call_state& call, errc code, const char* what);
  /// Gives up a call that has not ended: aborts it alone on a multiplexed connection that is
  /// not stuck writing, else closes its connection.
  void abandon(call_state& call);
  [[nodiscard]] clock::duration sweep_interval() const noexcept;

  asio::any_io_executor executor_;
  runtime::endpoint endpoint_;
  pool_settings settings_;
  std::vector<std::shared_ptr<connection>> connections_;
  std::deque<call_state*> waiting_;     ///< calls waiting for a connection, in order
  std::vector<call_state*> in_flight_;  ///< every call between start and end
  std::vector<wakeup*> probe_waiters_;
  pool_stats stats_;
  enum class probe_state : std::uint8_t { needed, running, done } probe_ = probe_state::needed;
  bool sweeping_ = false;
  bool closed_ = false;
};

/// `unix:PATH`, `tcp:HOST:PORT`, `/PATH`, `HOST:PORT`; a TCP endpoint without a host means
/// the loopback address.
runtime::endpoint parse_client_endpoint(std::string_view text);

}  // namespace fcgi::client::detail
