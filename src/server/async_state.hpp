// Internal: what a coroutine handler and its connection share about one request. Both run on
// the connection's I/O thread, so nothing here needs a lock.
#pragma once

#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/steady_timer.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <fcgi/server/async.hpp>

namespace fcgi::detail {

class connection;

/// Output of a request whose body has not ended yet: held in memory, then in a temp file.
class held_output {
 public:
  held_output() = default;
  held_output(const held_output&) = delete;
  held_output& operator=(const held_output&) = delete;
  held_output(held_output&&) = delete;
  held_output& operator=(held_output&&) = delete;
  ~held_output();

  /// Appends; past `memory_limit` bytes in memory the rest goes to an unlinked temp file.
  /// False if the temp file cannot be written.
  bool append(std::string_view bytes, std::size_t memory_limit);
  [[nodiscard]] bool empty() const noexcept { return memory_.empty() && !spilling(); }
  [[nodiscard]] bool spilling() const noexcept { return file_ >= 0 && read_ < written_; }
  /// Takes the in-memory part (to send first).
  std::string take_memory() noexcept { return std::exchange(memory_, {}); }
  /// Reads up to `max` spilled bytes in order into `out`; false on a read error.
  bool read_spilled(std::string& out, std::size_t max);

 private:
  std::string memory_;
  int file_ = -1;
  std::uint64_t written_ = 0;
  std::uint64_t read_ = 0;
};

struct async_state {
  async_state(connection& c, protocol::request_key request_key, protocol::role role,
              protocol::param_list params, bool keep_conn, boost::asio::io_context& io);

  std::weak_ptr<connection> owner;
  protocol::request_key key;

  // Input: bytes received and not yet read by the handler.
  std::string input;
  std::string reading;  ///< the chunk the last read returned (its view points here)
  bool input_ended = false;
  std::string data;
  bool data_ended = false;
  boost::asio::steady_timer input_signal;  ///< cancelled to wake a waiting reader

  // Output: held until the body has ended, then released to the connection.
  bool released = false;
  held_output held;
  std::optional<std::uint32_t> end_status;  ///< the handler ended while output was pending
  boost::asio::steady_timer output_signal;  ///< cancelled to wake a waiting writer

  bool aborted = false;
  boost::asio::cancellation_signal cancel;

  class sink final : public response_sink {
   public:
    explicit sink(async_state& s) noexcept : state_(s) {}
    bool write_stdout(std::string_view bytes) override;
    bool write_stderr(std::string_view bytes) override;
    void end(std::uint32_t app_status) override;
    [[nodiscard]] bool aborted() const noexcept override;

   private:
    async_state& state_;
  };
  sink output_sink{*this};
  /// A copy of the params: the protocol frees its copy when the request fails, while the
  /// coroutine may still be finishing.
  std::vector<std::byte> params;
  async_request req;
  async_response res;

  /// Wakes every waiter (after input, output progress, or an abort).
  void wake_readers();
  void wake_writers();
  /// Marks the request cancelled and interrupts the coroutine's pending operation.
  void abort();
};

struct shared_state;

/// Runs a coroutine handler for `state`, then ends its request (500 if it threw first).
boost::asio::awaitable<void> run_coroutine(std::shared_ptr<async_state> state,
                                           async_handler handler, shared_state* shared);

}  // namespace fcgi::detail
