// Internal: the handler pool (server_config::handler_threads). Handlers that may block run on
// pool threads; the protocol state machine and the socket stay with the connection's I/O
// thread. A handler's output travels back through its pool_job: the pool thread appends it
// under the job's mutex and posts a pump to the I/O thread, which moves it into the
// connection's queue while that holds less than max_output_buffer. The pool thread never
// touches the connection.
#pragma once

#include <boost/asio/io_context.hpp>

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <fcgi/protocol/app_connection.hpp>
#include <fcgi/server/request.hpp>
#include <fcgi/server/response.hpp>
#include <fcgi/server/server.hpp>

namespace fcgi::detail {

class connection;
struct shared_state;

/// One request handed to the pool. Fields above the mutex are set by the I/O thread before
/// the job is queued and only read afterwards.
class pool_job final : public response_sink, public std::enable_shared_from_this<pool_job> {
 public:
  /// Copies the params (the protocol frees its copy as soon as the request ends, which a
  /// timeout or an abort does while the handler may still run) and takes the body.
  pool_job(connection& owner, protocol::request_key key, request& input,
           const server::handler& handler, std::string name);

  // response_sink, called on the pool thread.
  bool write_stdout(std::string_view bytes) override { return write(false, bytes); }
  bool write_stderr(std::string_view bytes) override { return write(true, bytes); }
  void end(std::uint32_t app_status) override;
  [[nodiscard]] bool aborted() const noexcept override { return cancelled_.load(); }

  /// Pool thread: runs the handler, unless the request was cancelled before it started.
  /// Throws only what handing output over throws (std::bad_alloc).
  void run();

  /// I/O thread: the request is over for the web server (ended, aborted, timed out, peer
  /// gone). Wakes a waiting writer; every later write fails.
  void cancel();
  /// I/O thread: moves queued output into `out` (through `emit`) while `room()` allows, and
  /// returns the app status once the handler has ended and all its output has moved.
  template <typename Emit, typename Room>
  std::optional<std::uint32_t> take_output(Emit emit, Room room);
  /// I/O thread: drops queued output (the request already ended).
  void discard();

  [[nodiscard]] protocol::request_key key() const noexcept { return key_; }
  [[nodiscard]] const std::string& name() const noexcept { return name_; }
  /// The handler has returned.
  [[nodiscard]] bool finished() const noexcept { return finished_.load(); }
  /// I/O thread only: output is waiting for room in the connection's queue.
  bool backlog = false;

 private:
  struct chunk {
    bool to_stderr = false;
    std::string bytes;
  };
  bool write(bool to_stderr, std::string_view bytes);
  void post_pump();

  std::weak_ptr<connection> owner_;  ///< locked on the I/O thread only
  boost::asio::io_context& io_;
  shared_state& shared_;
  protocol::request_key key_;
  const server::handler& handler_;
  std::string name_;  ///< for log lines
  std::size_t bound_;
  std::vector<std::byte> params_;
  request request_;

  std::atomic<bool> cancelled_{false};
  std::atomic<bool> finished_{false};
  std::mutex mutex_;
  std::condition_variable drained_;
  std::deque<chunk> chunks_;
  std::size_t pending_ = 0;  ///< bytes in chunks_
  std::optional<std::uint32_t> end_status_;
  bool pump_posted_ = false;
};

template <typename Emit, typename Room>
std::optional<std::uint32_t> pool_job::take_output(Emit emit, Room room) {
  std::optional<std::uint32_t> ended;
  bool moved = false;
  {
    std::lock_guard lock(mutex_);
    pump_posted_ = false;
    while (!chunks_.empty() && room()) {
      const chunk& front = chunks_.front();
      emit(front.to_stderr, std::string_view(front.bytes));
      pending_ -= front.bytes.size();
      chunks_.pop_front();
      moved = true;
    }
    backlog = !chunks_.empty();
    if (chunks_.empty() && end_status_) ended = std::exchange(end_status_, std::nullopt);
  }
  if (moved) drained_.notify_all();
  return ended;
}

/// The threads of the handler pool and their queue of jobs.
class handler_pool {
 public:
  handler_pool(unsigned threads, shared_state& shared);
  ~handler_pool();
  handler_pool(const handler_pool&) = delete;
  handler_pool& operator=(const handler_pool&) = delete;
  handler_pool(handler_pool&&) = delete;
  handler_pool& operator=(handler_pool&&) = delete;

  void submit(std::shared_ptr<pool_job> job);
  /// Lets the queued jobs run, then joins the threads: returns once every handler returned.
  void stop_and_join();

 private:
  void run_thread();

  shared_state& shared_;
  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<std::shared_ptr<pool_job>> queue_;
  std::size_t busy_ = 0;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace fcgi::detail
