// counter: the FastCGI seed paper's example — the process persists, so it can count the
// requests it has served (a CGI program would always say 1).
#include <fcgi/server/server.hpp>

#include <unistd.h>
#include <atomic>
#include <string>

int main(int argc, char** argv) {
  fcgi::server app(fcgi::server_config::from_args(argc, argv));
  std::atomic<unsigned long> served{0};  // atomic: with --threads N handlers run in parallel
  app.responder([&served](fcgi::request&, fcgi::response& res) {
    const unsigned long count = ++served;
    res.header("Content-Type", "text/plain");
    res.write("Request number " + std::to_string(count) + " running in process " +
              std::to_string(::getpid()) + "\n");
  });
  return app.run();
}
