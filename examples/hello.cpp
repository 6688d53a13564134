// hello: the smallest fcgikit application. Run it behind a web server (fd 0), with
// `--listen unix:/tmp/hello.sock`, or as a CGI program.
#include <fcgi/server/server.hpp>

int main(int argc, char** argv) {
  fcgi::server app(fcgi::server_config::from_args(argc, argv));
  app.responder([](fcgi::request&, fcgi::response& res) {
    res.header("Content-Type", "text/plain").header("Content-Length", "14");
    res.write("Hello, world!\n");
  });
  return app.run();
}
