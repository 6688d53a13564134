// echo: the diagnostic application that tools and tests rely on. Keep its output exact.
//
// Responder: with `size=N` in QUERY_STRING, a CGI head, a blank line, then exactly N bytes
// where byte i is i % 251. Otherwise a CGI head, a blank line, one line NAME=VALUE per param
// received (in the order received), then the request body verbatim as the last bytes.
// Authorizer: allows (200), adding `Variable-ECHO-AUTHORIZED: yes`.
// Filter: the STDIN bytes followed by the DATA bytes.
#include <fcgi/server/server.hpp>

#include <charconv>
#include <string>

namespace {

void pattern(fcgi::response& res, std::uint64_t size) {
  std::string block(64 * 1024, '\0');
  std::uint64_t sent = 0;
  while (sent < size) {
    const std::size_t n =
        static_cast<std::size_t>(std::min<std::uint64_t>(block.size(), size - sent));
    for (std::size_t i = 0; i < n; ++i) block[i] = static_cast<char>((sent + i) % 251);
    if (!res.write(std::string_view(block.data(), n))) return;
    sent += n;
  }
}

std::uint64_t requested_size(const fcgi::request& req, bool& found) {
  found = false;
  const auto text = req.query("size");
  std::uint64_t size = 0;
  if (!text) return 0;
  const auto [end, error] = std::from_chars(text->data(), text->data() + text->size(), size);
  found = error == std::errc{} && end == text->data() + text->size();
  return size;
}

}  // namespace

int main(int argc, char** argv) {
  fcgi::server app(fcgi::server_config::from_args(argc, argv));
  app.responder([](fcgi::request& req, fcgi::response& res) {
    bool sized = false;
    const std::uint64_t size = requested_size(req, sized);
    res.header("Content-Type", sized ? "application/octet-stream" : "text/plain");
    if (sized) {
      res.header("Content-Length", std::to_string(size));
      pattern(res, size);
      return;
    }
    std::string text;
    for (const fcgi::protocol::param& p : req.params()) {
      text.append(p.name).append("=").append(p.value).append("\n");
    }
    res.write(text);
    res.write(req.body());
  });
  app.authorizer(
      [](fcgi::request&, fcgi::response& res) { res.header("Variable-ECHO-AUTHORIZED", "yes"); });
  app.filter([](fcgi::request& req, fcgi::response& res) {
    res.header("Content-Type", "application/octet-stream");
    res.write(req.body());
    res.write(req.data());
  });
  return app.run();
}
