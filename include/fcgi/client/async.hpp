// The coroutine FastCGI client (Boost.Asio C++20 coroutines): the same pool as client.hpp,
// for programs that run an io_context. An async_client belongs to one executor and must be
// used from the thread running it (one client per thread for multi-threaded programs, as
// fcgi-bench does). Cancelling the awaiting coroutine (a cancellation slot, e.g. a `||` with a
// timer) sends ABORT_REQUEST and completes the call with errc::cancelled.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <fcgi/client/errc.hpp>
#include <fcgi/client/request.hpp>

namespace fcgi::client {

namespace detail {
class pool;
}

class async_client {
 public:
  /// See client::client for the endpoint forms; throws std::invalid_argument.
  async_client(boost::asio::any_io_executor executor, std::string_view endpoint,
               const pool_settings& settings = {});
  /// Closes every connection; calls still waiting complete with errc::pool_closed.
  ~async_client();
  async_client(const async_client&) = delete;
  async_client& operator=(const async_client&) = delete;
  async_client(async_client&&) = delete;
  async_client& operator=(async_client&&) = delete;

  /// `r` must outlive the call.
  boost::asio::awaitable<response> call(const request& r);
  boost::asio::awaitable<values_answer> get_values(std::vector<std::string> names,
                                                   std::chrono::milliseconds timeout);
  [[nodiscard]] pool_stats stats() const;
  void close();

 private:
  std::shared_ptr<detail::pool> pool_;
};

}  // namespace fcgi::client
