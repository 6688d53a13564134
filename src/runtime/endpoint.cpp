#include <fcgi/runtime/endpoint.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <system_error>
#include <utility>

namespace fcgi::runtime {
namespace {

constexpr std::string_view endpoint_forms =
    "expected unix:PATH, tcp:HOST:PORT, tcp:[IPV6]:PORT or tcp:PORT";

[[noreturn]] void throw_errno(int error, const std::string& what) {
  throw std::system_error(error, std::generic_category(), what);
}

std::uint16_t parse_port(std::string_view text, std::string_view whole) {
  unsigned value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc{} || end != text.data() + text.size() || value > 65535) {
    throw std::invalid_argument("bad port in endpoint '" + std::string(whole) +
                                "': " + std::string(endpoint_forms));
  }
  return static_cast<std::uint16_t>(value);
}

class fd_guard {
 public:
  explicit fd_guard(int fd) noexcept : fd_(fd) {}
  fd_guard(const fd_guard&) = delete;
  fd_guard& operator=(const fd_guard&) = delete;
  fd_guard(fd_guard&&) = delete;
  fd_guard& operator=(fd_guard&&) = delete;
  ~fd_guard() {
    if (fd_ >= 0) ::close(fd_);
  }
  [[nodiscard]] int get() const noexcept { return fd_; }
  int release() noexcept { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

sockaddr_un unix_address(const std::string& path) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof(address.sun_path)) {
    throw std::invalid_argument("unix socket path '" + path + "' must be 1 to " +
                                std::to_string(sizeof(address.sun_path) - 1) + " bytes");
  }
  std::memcpy(address.sun_path, path.data(), path.size());
  return address;
}

/// A socket file nobody accepts on is left over from a dead process: safe to replace.
bool is_stale_unix_socket(const sockaddr_un& address) {
  struct stat info {};
  if (::lstat(address.sun_path, &info) != 0 || !S_ISSOCK(info.st_mode)) return false;
  fd_guard probe(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (probe.get() < 0) return false;
  const int rc = ::connect(probe.get(), reinterpret_cast<const sockaddr*>(&address),  // NOLINT
                           sizeof(address));
  return rc != 0 && errno == ECONNREFUSED;
}

int open_unix_listener(const endpoint& where, const listen_options& options) {
  const sockaddr_un address = unix_address(where.path);
  fd_guard fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (fd.get() < 0) throw_errno(errno, "socket(AF_UNIX)");
  if (is_stale_unix_socket(address)) ::unlink(address.sun_path);
  // The mode applies from the first instant: no window where the socket is wider open.
  const mode_t old_umask = options.mode ? ::umask(static_cast<mode_t>(~*options.mode & 0777)) : 0;
  const int rc = ::bind(fd.get(), reinterpret_cast<const sockaddr*>(&address),  // NOLINT
                        sizeof(address));
  const int bind_error = errno;
  if (options.mode) ::umask(old_umask);
  if (rc != 0) {
    throw_errno(bind_error, "cannot listen on " + where.to_string() +
                                (bind_error == EADDRINUSE
                                     ? ": a running process serves it; stop it or pick another path"
                                     : ""));
  }
  if (options.mode && ::chmod(address.sun_path, *options.mode) != 0) {
    throw_errno(errno, "chmod " + where.path);
  }
  if ((options.owner || options.group) &&
      ::chown(address.sun_path, options.owner.value_or(static_cast<uid_t>(-1)),
              options.group.value_or(static_cast<gid_t>(-1))) != 0) {
    throw_errno(errno, "chown " + where.path);
  }
  if (::listen(fd.get(), options.backlog) != 0) throw_errno(errno, "listen " + where.to_string());
  return fd.release();
}

int open_tcp_listener(const endpoint& where, const listen_options& options) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const std::string port = std::to_string(where.port);
  const int rc = ::getaddrinfo(where.host.empty() ? nullptr : where.host.c_str(), port.c_str(),
                               &hints, &found);
  if (rc != 0) {
    throw std::invalid_argument("cannot resolve '" + where.host + "' in " + where.to_string() +
                                ": " + ::gai_strerror(rc));
  }
  std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> list(found, &::freeaddrinfo);
  // With no host, prefer the IPv6 wildcard with dual stack so one socket takes both families.
  const addrinfo* chosen = found;
  for (const addrinfo* ai = found; where.host.empty() && ai != nullptr; ai = ai->ai_next) {
    if (ai->ai_family == AF_INET6) chosen = ai;
  }
  fd_guard fd(::socket(chosen->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (fd.get() < 0) throw_errno(errno, "socket");
  const int on = 1;
  ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
  if (chosen->ai_family == AF_INET6 && where.host.empty()) {
    const int off = 0;
    ::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off));
  }
  if (::bind(fd.get(), chosen->ai_addr, chosen->ai_addrlen) != 0) {
    const int error = errno;
    throw_errno(error, "cannot listen on " + where.to_string() +
                           (error == EADDRINUSE
                                ? ": the port is taken; stop that process or pick another port"
                                : ""));
  }
  if (::listen(fd.get(), options.backlog) != 0) throw_errno(errno, "listen " + where.to_string());
  return fd.release();
}

/// Canonical text of a numeric IPv4 or IPv6 address, IPv4-mapped IPv6 written as IPv4.
std::optional<std::string> canonical_address(std::string_view text) {
  const std::string copy(text);
  in_addr v4{};
  if (::inet_pton(AF_INET, copy.c_str(), &v4) == 1) {
    char buffer[INET_ADDRSTRLEN] = {};  // NOLINT(modernize-avoid-c-arrays)
    ::inet_ntop(AF_INET, &v4, buffer, sizeof(buffer));
    return std::string(buffer);
  }
  in6_addr v6{};
  if (::inet_pton(AF_INET6, copy.c_str(), &v6) == 1) {
    if (IN6_IS_ADDR_V4MAPPED(&v6)) {
      std::memcpy(&v4, &v6.s6_addr[12], sizeof(v4));
      char buffer[INET_ADDRSTRLEN] = {};  // NOLINT(modernize-avoid-c-arrays)
      ::inet_ntop(AF_INET, &v4, buffer, sizeof(buffer));
      return std::string(buffer);
    }
    char buffer[INET6_ADDRSTRLEN] = {};  // NOLINT(modernize-avoid-c-arrays)
    ::inet_ntop(AF_INET6, &v6, buffer, sizeof(buffer));
    return std::string(buffer);
  }
  return std::nullopt;
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

}  // namespace

std::string endpoint::to_string() const {
  if (type == kind::unix_socket) return "unix:" + path;
  if (host.find(':') != std::string::npos) return "tcp:[" + host + "]:" + std::to_string(port);
  if (host.empty()) return "tcp:" + std::to_string(port);
  return "tcp:" + host + ":" + std::to_string(port);
}

endpoint parse_endpoint(std::string_view text) {
  endpoint result;
  if (text.starts_with("unix:")) {
    result.type = endpoint::kind::unix_socket;
    result.path = std::string(text.substr(5));
    if (result.path.empty()) {
      throw std::invalid_argument("empty path in endpoint '" + std::string(text) +
                                  "': " + std::string(endpoint_forms));
    }
    return result;
  }
  if (!text.starts_with("tcp:")) {
    throw std::invalid_argument("unknown endpoint '" + std::string(text) +
                                "': " + std::string(endpoint_forms));
  }
  result.type = endpoint::kind::tcp;
  const std::string_view rest = text.substr(4);
  if (rest.starts_with("[")) {
    const auto close = rest.find("]:");
    if (close == std::string_view::npos) {
      throw std::invalid_argument("bad IPv6 endpoint '" + std::string(text) +
                                  "': " + std::string(endpoint_forms));
    }
    result.host = std::string(rest.substr(1, close - 1));
    result.port = parse_port(rest.substr(close + 2), text);
    return result;
  }
  const auto colon = rest.rfind(':');
  if (colon == std::string_view::npos) {
    result.port = parse_port(rest, text);
    return result;
  }
  result.host = std::string(rest.substr(0, colon));
  if (result.host.find(':') != std::string::npos) {
    throw std::invalid_argument("IPv6 hosts need brackets in '" + std::string(text) +
                                "', e.g. tcp:[::1]:9000");
  }
  result.port = parse_port(rest.substr(colon + 1), text);
  return result;
}

int open_listener(const endpoint& where, const listen_options& options) {
  return where.type == endpoint::kind::unix_socket ? open_unix_listener(where, options)
                                                   : open_tcp_listener(where, options);
}

bool is_listening_socket(int fd) noexcept {
  int accepting = 0;
  socklen_t size = sizeof(accepting);
  return ::getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &accepting, &size) == 0 && accepting != 0;
}

std::vector<int> take_systemd_listeners() {
  constexpr int first_fd = 3;  // SD_LISTEN_FDS_START
  std::vector<int> fds;
  const char* pid_text = std::getenv("LISTEN_PID");
  const char* count_text = std::getenv("LISTEN_FDS");
  if (pid_text == nullptr || count_text == nullptr) return fds;
  const std::string_view pid_view(pid_text);
  const std::string_view count_view(count_text);
  long pid = 0;
  int count = 0;
  std::from_chars(pid_view.data(), pid_view.data() + pid_view.size(), pid);
  std::from_chars(count_view.data(), count_view.data() + count_view.size(), count);
  ::unsetenv("LISTEN_PID");
  ::unsetenv("LISTEN_FDS");
  ::unsetenv("LISTEN_FDNAMES");
  if (pid != static_cast<long>(::getpid()) || count <= 0) return fds;
  for (int fd = first_fd; fd < first_fd + count; ++fd) {
    ::fcntl(fd, F_SETFD, FD_CLOEXEC);
    fds.push_back(fd);
  }
  return fds;
}

std::string peer_address(int fd) {
  sockaddr_storage address{};
  socklen_t size = sizeof(address);
  if (::getpeername(fd, reinterpret_cast<sockaddr*>(&address), &size) != 0) return {};  // NOLINT
  char buffer[INET6_ADDRSTRLEN] = {};  // NOLINT(modernize-avoid-c-arrays)
  if (address.ss_family == AF_INET) {
    const auto* v4 = reinterpret_cast<const sockaddr_in*>(&address);  // NOLINT
    ::inet_ntop(AF_INET, &v4->sin_addr, buffer, sizeof(buffer));
    return buffer;
  }
  if (address.ss_family == AF_INET6) {
    const auto* v6 = reinterpret_cast<const sockaddr_in6*>(&address);  // NOLINT
    ::inet_ntop(AF_INET6, &v6->sin6_addr, buffer, sizeof(buffer));
    return canonical_address(buffer).value_or(buffer);
  }
  return {};
}

address_allowlist::address_allowlist(std::string_view comma_separated) {
  while (!comma_separated.empty()) {
    const auto comma = comma_separated.find(',');
    const std::string_view entry = trim(comma_separated.substr(0, comma));
    comma_separated =
        comma == std::string_view::npos ? std::string_view{} : comma_separated.substr(comma + 1);
    if (entry.empty()) continue;
    auto canonical = canonical_address(entry);
    if (!canonical) {
      throw std::invalid_argument("FCGI_WEB_SERVER_ADDRS: '" + std::string(entry) +
                                  "' is not a numeric IPv4 or IPv6 address");
    }
    entries_.push_back(std::move(*canonical));
  }
}

address_allowlist address_allowlist::from_environment() {
  const char* value = std::getenv("FCGI_WEB_SERVER_ADDRS");
  return value == nullptr ? address_allowlist{} : address_allowlist(value);
}

bool address_allowlist::allows(std::string_view address) const {
  if (entries_.empty()) return true;
  const auto canonical = canonical_address(address);
  if (!canonical) return false;  // not TCP/IP (spec 3.2): refused
  for (const std::string& entry : entries_) {
    if (entry == *canonical) return true;
  }
  return false;
}

}  // namespace fcgi::runtime
