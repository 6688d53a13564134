#include <fcgi/client/client.hpp>

#include <optional>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include "pool.hpp"

namespace fcgi::client {

namespace asio = boost::asio;

struct client::impl {
  asio::io_context context{1};
  std::shared_ptr<detail::pool> pool;

  impl(std::string_view endpoint, const pool_settings& settings)
      : pool(std::make_shared<detail::pool>(context.get_executor(), endpoint, settings)) {}
  ~impl() {
    try {
      pool->close();
      // Let the connections' readers see the close and release what they hold.
      context.restart();
      context.poll();
    } catch (...) {  // NOLINT(bugprone-empty-catch): nothing is left to report to
    }
  }
  impl(const impl&) = delete;
  impl& operator=(const impl&) = delete;
  impl(impl&&) = delete;
  impl& operator=(impl&&) = delete;

  /// Runs the loop until `work` completes; connections stay open in between.
  template <class T>
  T run(asio::awaitable<T> work) {
    // Let kept connections' readers see what arrived while no call ran (a late record or
    // EOF closes the connection before a call can pick it).
    context.restart();
    context.poll();
    std::optional<T> result;
    std::exception_ptr failure;
    asio::co_spawn(context, std::move(work), [&](const std::exception_ptr& e, T value) {
      failure = e;
      if (!e) result = std::move(value);
    });
    context.restart();
    while (!result && !failure) context.run_one();
    if (failure) std::rethrow_exception(failure);
    return std::move(*result);
  }
};

client::client(std::string_view endpoint, const pool_settings& settings)
    : impl_(std::make_unique<impl>(endpoint, settings)) {}
client::~client() = default;
client::client(client&&) noexcept = default;
client& client::operator=(client&&) noexcept = default;

response client::call(const request& r) { return impl_->run(impl_->pool->call(r)); }

values_answer client::get_values(const std::vector<std::string>& names,
                                 std::chrono::milliseconds timeout) {
  return impl_->run(impl_->pool->get_values(names, timeout));
}

pool_stats client::stats() const { return impl_->pool->stats(); }

}  // namespace fcgi::client
