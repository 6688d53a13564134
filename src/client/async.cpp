#include <fcgi/client/async.hpp>

#include "pool.hpp"

namespace fcgi::client {

async_client::async_client(boost::asio::any_io_executor executor, std::string_view endpoint,
                           const pool_settings& settings)
    : pool_(std::make_shared<detail::pool>(std::move(executor), endpoint, settings)) {}

async_client::~async_client() { pool_->close(); }

boost::asio::awaitable<response> async_client::call(const request& r) {
  const std::shared_ptr<detail::pool> keep = pool_;
  co_return co_await keep->call(r);
}

boost::asio::awaitable<values_answer> async_client::get_values(std::vector<std::string> names,
                                                               std::chrono::milliseconds timeout) {
  const std::shared_ptr<detail::pool> keep = pool_;
  co_return co_await keep->get_values(std::move(names), timeout);
}

pool_stats async_client::stats() const { return pool_->stats(); }

void async_client::close() { pool_->close(); }

}  // namespace fcgi::client
