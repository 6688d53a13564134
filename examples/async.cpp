// async: a coroutine handler that waits on a timer without holding up other requests — the
// shape of a handler that calls a database or another service asynchronously.
// GET /?ms=250 answers after 250 ms (default 100, at most 10000). If the web server aborts
// the request, the wait is cancelled at once.
#include <fcgi/server/async.hpp>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <string>

int main(int argc, char** argv) {
  fcgi::server app(fcgi::server_config::from_args(argc, argv));
  fcgi::async_responder(
      app, [](fcgi::async_request& req, fcgi::async_response& res) -> boost::asio::awaitable<void> {
        long ms = 100;
        if (const auto text = req.query("ms"))
          std::from_chars(text->data(), text->data() + text->size(), ms);
        ms = std::clamp(ms, 0L, 10000L);
        boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor);
        timer.expires_after(std::chrono::milliseconds(ms));
        co_await timer.async_wait(boost::asio::use_awaitable);
        res.header("Content-Type", "text/plain");
        co_await res.send("waited " + std::to_string(ms) + " ms\n");
      });
  return app.run();
}
