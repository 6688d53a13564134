// filter: the FastCGI Filter role (spec 6.4). The web server sends the file to filter as the
// DATA stream; this one uppercases it as it streams, without holding the file.
#include <fcgi/server/async.hpp>

#include <cctype>
#include <string>

int main(int argc, char** argv) {
  fcgi::server app(fcgi::server_config::from_args(argc, argv));
  fcgi::async_filter(
      app, [](fcgi::async_request& req, fcgi::async_response& res) -> boost::asio::awaitable<void> {
        co_await req.read_all();  // spec 6.4: STDIN is read before any output
        res.header("Content-Type", "text/plain");
        std::string upper;
        for (;;) {
          const std::string_view chunk = co_await req.read_data_some();
          if (chunk.empty()) break;
          upper.assign(chunk);
          for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
          if (!co_await res.send(upper)) co_return;
        }
      });
  return app.run();
}
