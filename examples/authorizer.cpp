// authorizer: the FastCGI Authorizer role (spec 6.3). Allows a request whose Authorization
// header is `Bearer TOKEN` (TOKEN from $AUTH_TOKEN, default "let-me-in"), passing
// `Variable-AUTH_USER` on to the web server; anything else gets 401 with its body.
#include <fcgi/server/server.hpp>

#include <cstdlib>
#include <string>

int main(int argc, char** argv) {
  const char* configured = std::getenv("AUTH_TOKEN");
  const std::string expected =
      std::string("Bearer ") + (configured != nullptr ? configured : "let-me-in");
  fcgi::server app(fcgi::server_config::from_args(argc, argv));
  app.authorizer([expected](fcgi::request& req, fcgi::response& res) {
    if (req.header("Authorization") == expected) {
      // 200: the web server grants access and adds AUTH_USER to the request's variables.
      res.header("Variable-AUTH_USER", "token-holder");
      return;
    }
    res.status(401, "Unauthorized")
        .header("Content-Type", "text/plain")
        .header("WWW-Authenticate", "Bearer");
    res.write("a valid bearer token is required\n");
  });
  return app.run();
}
