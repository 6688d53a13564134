// An fcgikit application for fcgi-pm's tests of request-level limits (it reports to the
// scoreboard the manager passes on fd 3):
//   /sleep?s=N   sleeps N seconds on the I/O thread, as a stuck handler does, then answers
//   anything else answers "served by PID" at once
#include <unistd.h>

#include <charconv>
#include <chrono>
#include <string>
#include <thread>

#include <fcgi/server/server.hpp>

int main(int argc, char** argv) {
  fcgi::server app(fcgi::server_config::from_args(argc, argv));
  app.responder([](fcgi::request& req, fcgi::response& res) {
    if (req.request_uri().starts_with("/sleep")) {
      const std::string_view text = req.query("s").value_or("1");
      double seconds = 1;
      std::from_chars(text.data(), text.data() + text.size(), seconds);
      std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
    }
    res.header("Content-Type", "text/plain");
    res.write("served by " + std::to_string(::getpid()) + "\n");
  });
  return app.run();
}
