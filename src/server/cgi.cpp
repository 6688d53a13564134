#include "cgi.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <string>
#include <vector>

extern char** environ;  // NOLINT: POSIX

namespace fcgi::detail {
namespace {

bool write_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

class stdout_sink final : public response_sink {
 public:
  bool write_stdout(std::string_view bytes) override {
    return ok_ = ok_ && write_all(STDOUT_FILENO, bytes);
  }
  bool write_stderr(std::string_view bytes) override { return write_all(STDERR_FILENO, bytes); }
  void end(std::uint32_t app_status) override { status_ = app_status; }
  [[nodiscard]] bool aborted() const noexcept override { return !ok_; }
  [[nodiscard]] std::uint32_t status() const noexcept { return status_; }

 private:
  bool ok_ = true;
  std::uint32_t status_ = 0;
};

/// The environment as encoded name-value pairs, so the handler sees the same param_list type.
std::vector<std::byte> environment_pairs() {
  std::vector<std::byte> pairs;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    const std::string_view text(*entry);
    const auto eq = text.find('=');
    if (eq == std::string_view::npos || eq == 0) continue;
    const std::string_view name = text.substr(0, eq);
    const std::string_view value = text.substr(eq + 1);
    const std::size_t at = pairs.size();
    pairs.resize(at + protocol::encoded_pair_size(name, value));
    protocol::encode_pair(name, value, std::span(pairs).subspan(at));
  }
  return pairs;
}

}  // namespace

bool started_as_cgi() noexcept {
  struct stat info {};
  if (::fstat(STDIN_FILENO, &info) == 0 && S_ISSOCK(info.st_mode)) return false;
  return std::getenv("GATEWAY_INTERFACE") != nullptr || std::getenv("REQUEST_METHOD") != nullptr;
}

int serve_cgi(const std::array<server::handler, 4>& handlers, const server_config& config) {
  const std::vector<std::byte> pairs = environment_pairs();
  const server::handler& handler = handlers[static_cast<std::size_t>(protocol::role::responder)];
  request req(protocol::role::responder, protocol::param_list(pairs), false);
  stdout_sink sink;
  response res(sink);
  if (!handler) {
    res.status(501, "Not Implemented").header("Content-Type", "text/plain");
    res.write("this program serves no CGI responder\n");
    res.end(1);
    return 1;
  }
  // RFC 3875 §4.2: read CONTENT_LENGTH bytes of body, no more; without it, none.
  const std::uint64_t wanted = req.content_length().value_or(0);
  if (wanted > config.max_body_bytes) {
    res.status(413, "Content Too Large").header("Content-Type", "text/plain");
    res.write("request body too large\n");
    res.end(1);
    return 1;
  }
  std::string& body = req.body_buffer();
  body.resize(static_cast<std::size_t>(wanted));
  std::size_t have = 0;
  while (have < body.size()) {
    const ssize_t n = ::read(STDIN_FILENO, body.data() + have, body.size() - have);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    have += static_cast<std::size_t>(n);
  }
  body.resize(have);
  std::uint32_t status = 0;
  try {
    handler(req, res);
  } catch (const std::exception& e) {
    sink.write_stderr(std::string("handler threw: ") + e.what() + "\n");
    if (!res.head_sent())
      res.status(500, "Internal Server Error").header("Content-Type", "text/plain");
    status = 1;
  }
  res.end(status);
  return static_cast<int>(sink.status());
}

}  // namespace fcgi::detail
