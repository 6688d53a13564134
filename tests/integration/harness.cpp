#include "harness.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <system_error>

namespace fcgi::test {
namespace {

[[noreturn]] void fail(const std::string& what) {
  throw std::system_error(errno, std::generic_category(), what);
}

void set_timeouts(int fd) {
  timeval tv{};
  tv.tv_sec = 10;
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

}  // namespace

listener listener::unix_socket() {
  char dir_template[] = "/tmp/fcgikit-test-XXXXXX";  // NOLINT(modernize-avoid-c-arrays)
  if (::mkdtemp(dir_template) == nullptr) fail("mkdtemp");
  listener l;
  l.unix_path = std::string(dir_template) + "/app.sock";
  l.fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strncpy(address.sun_path, l.unix_path.c_str(), sizeof(address.sun_path) - 1);
  if (::bind(l.fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0)
    fail("bind");  // NOLINT
  if (::listen(l.fd, 4096) != 0) fail("listen");
  return l;
}

listener listener::tcp_loopback() {
  listener l;
  l.fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(l.fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0)
    fail("bind");  // NOLINT
  socklen_t size = sizeof(address);
  ::getsockname(l.fd, reinterpret_cast<sockaddr*>(&address), &size);  // NOLINT
  l.port = ntohs(address.sin_port);
  if (::listen(l.fd, 4096) != 0) fail("listen");
  return l;
}

struct running_server::log_store {
  std::mutex mutex;
  std::condition_variable changed;
  std::vector<std::string> lines;
};

running_server::running_server(server_config config, const std::function<void(server&)>& setup,
                               listener where)
    : where_(std::move(where)), log_(std::make_shared<log_store>()) {
  config.listen_fds = {where_.fd};
  config.handle_signals = false;  // a test runner's SIGTERM must end the test process
  config.log = [log = log_](std::string_view line) {
    {
      std::lock_guard lock(log->mutex);
      log->lines.emplace_back(line);
    }
    log->changed.notify_all();
  };
  server_ = std::make_unique<server>(std::move(config));
  setup(*server_);
  thread_ = std::thread([this] { exit_status_ = server_->run(); });
}

running_server::~running_server() {
  stop_and_wait();
  if (!where_.unix_path.empty()) {
    std::error_code ignored;
    std::filesystem::remove_all(std::filesystem::path(where_.unix_path).parent_path(), ignored);
  }
}

int running_server::stop_and_wait() {
  if (!joined_) {
    server_->stop();
    thread_.join();
    joined_ = true;
  }
  return exit_status_;
}

bool running_server::wait_for_log(std::string_view text, std::chrono::milliseconds deadline) {
  std::unique_lock lock(log_->mutex);
  return log_->changed.wait_for(lock, deadline, [&] {
    for (const std::string& line : log_->lines) {
      if (line.find(text) != std::string::npos) return true;
    }
    return false;
  });
}

std::vector<std::string> running_server::log_lines() const {
  std::lock_guard lock(log_->mutex);
  return log_->lines;
}

int running_server::connect() const {
  int fd = -1;
  if (!where_.unix_path.empty()) {
    fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::strncpy(address.sun_path, where_.unix_path.c_str(), sizeof(address.sun_path) - 1);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0)
      fail("connect");  // NOLINT
  } else {
    fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(where_.port);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0)
      fail("connect");  // NOLINT
  }
  set_timeouts(fd);
  return fd;
}

std::string reply::body() const {
  if (stdout_bytes.starts_with("\r\n")) return stdout_bytes.substr(2);  // an empty head
  const auto end = stdout_bytes.find("\r\n\r\n");
  return end == std::string::npos ? std::string() : stdout_bytes.substr(end + 4);
}

std::string reply::head() const {
  if (stdout_bytes.starts_with("\r\n")) return {};
  const auto end = stdout_bytes.find("\r\n\r\n");
  return end == std::string::npos ? stdout_bytes : stdout_bytes.substr(0, end + 2);
}

client::client(int fd, std::uint32_t max_requests)
    : fd_(fd), protocol_(protocol::client_settings{max_requests, 16 * 1024}) {}

client::~client() { ::close(fd_); }

protocol::request_key client::start(const request_spec& spec) {
  const auto key = protocol_.begin_request(spec.role, spec.keep_conn);
  if (!key) throw std::runtime_error("begin_request: " + std::string(to_string(key.error())));
  std::vector<protocol::param> params;
  for (const auto& [name, value] : spec.params) params.push_back({name, value});
  protocol_.send_params(*key, params);
  protocol_.end_params(*key);
  protocol_.send_stdin(*key, protocol::as_bytes(spec.body));
  protocol_.end_stdin(*key);
  if (spec.role == protocol::role::filter) {
    protocol_.send_data(*key, protocol::as_bytes(spec.data));
    protocol_.end_data(*key);
  }
  replies_[key->id] = reply{};
  return *key;
}

void client::send_raw(std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // the server closed: the caller's wait will tell
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
}

void client::flush() {
  protocol::output_queue& out = protocol_.output();
  while (!out.empty()) {
    std::array<protocol::bytes_view, 16> slices;
    const std::size_t count = out.gather(slices);
    std::size_t sent = 0;
    for (std::size_t i = 0; i < count; ++i) {
      const std::string_view text = protocol::as_chars(slices[i]);
      const ssize_t n = ::send(fd_, text.data(), text.size(), MSG_NOSIGNAL);
      if (n <= 0) {
        out.clear();
        return;
      }
      sent += static_cast<std::size_t>(n);
      if (static_cast<std::size_t>(n) < text.size()) break;
    }
    out.consume(sent);
  }
}

bool client::read_some() {
  std::array<char, 65536> buffer{};
  const ssize_t n = ::recv(fd_, buffer.data(), buffer.size(), 0);
  if (n <= 0) {
    closed_ = true;
    return false;
  }
  protocol::bytes_view input = protocol::as_bytes({buffer.data(), static_cast<std::size_t>(n)});
  for (auto ev = protocol_.next_event(input); ev.kind != protocol::client_event_kind::need_more;
       ev = protocol_.next_event(input)) {
    dispatch(ev);
    if (ev.kind == protocol::client_event_kind::connection_error) {
      closed_ = true;
      return false;
    }
  }
  return true;
}

void client::dispatch(const protocol::client_event& ev) {
  using kind = protocol::client_event_kind;
  switch (ev.kind) {
    case kind::stdout_chunk:
      replies_[ev.request.id].stdout_bytes += protocol::as_chars(ev.bytes);
      break;
    case kind::stderr_chunk:
      replies_[ev.request.id].stderr_bytes += protocol::as_chars(ev.bytes);
      break;
    case kind::request_ended: {
      reply& r = replies_[ev.request.id];
      r.ended = true;
      r.app_status = ev.end.app_status;
      r.protocol_status = ev.end.protocol_status;
      break;
    }
    case kind::values_result:
      for (const protocol::param& p : ev.values)
        values_[std::string(p.name)] = std::string(p.value);
      values_ready_ = true;
      break;
    default: break;
  }
}

reply client::wait(protocol::request_key key) {
  flush();
  while (!replies_[key.id].ended && read_some()) {
  }
  reply r = replies_[key.id];
  replies_.erase(key.id);
  return r;
}

reply client::call(const request_spec& spec) { return wait(start(spec)); }

bool client::wait_closed(std::chrono::milliseconds deadline) {
  const auto until = std::chrono::steady_clock::now() + deadline;
  while (!closed_) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        until - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
    read_some();
  }
  return true;
}

std::map<std::string, std::string> client::get_values(const std::vector<std::string_view>& names) {
  values_.clear();
  values_ready_ = false;
  protocol_.query_values(names);
  flush();
  while (!values_ready_ && read_some()) {
  }
  return values_;
}

raw_reply read_raw_reply(int fd, std::uint16_t id) {
  raw_reply r;
  std::string pending;
  std::array<char, 65536> buffer{};
  for (;;) {
    protocol::record_header header;
    while (protocol::decode_header(protocol::as_bytes(pending), header) != 0 &&
           pending.size() >= header.record_size()) {
      const std::string content = pending.substr(protocol::header_size, header.content_length);
      pending.erase(0, header.record_size());
      if (header.request_id != id) continue;
      if (header.is(protocol::record_type::stdout_stream)) r.stdout_bytes += content;
      if (header.is(protocol::record_type::stderr_stream)) r.stderr_bytes += content;
      if (header.is(protocol::record_type::end_request)) {
        protocol::end_request_body body;
        protocol::decode_end_request_body(protocol::as_bytes(content), body);
        r.app_status = body.app_status;
        r.protocol_status = body.protocol_status;
        r.ended = true;
        return r;
      }
    }
    const ssize_t n = ::recv(fd, buffer.data(), buffer.size(), 0);
    if (n <= 0) return r;
    pending.append(buffer.data(), static_cast<std::size_t>(n));
  }
}

std::vector<std::pair<std::string, std::string>> cgi_params(
    std::string_view method, std::string_view uri,
    std::vector<std::pair<std::string, std::string>> extra) {
  const auto q = uri.find('?');
  std::vector<std::pair<std::string, std::string>> params = {
      {"REQUEST_METHOD", std::string(method)},
      {"REQUEST_URI", std::string(uri)},
      {"SCRIPT_NAME", std::string(uri.substr(0, q))},
      {"QUERY_STRING",
       q == std::string_view::npos ? std::string() : std::string(uri.substr(q + 1))},
      {"SERVER_PROTOCOL", "HTTP/1.1"},
      {"GATEWAY_INTERFACE", "CGI/1.1"},
  };
  for (auto& p : extra) params.push_back(std::move(p));
  return params;
}

std::string raw_record(std::uint8_t type, std::uint16_t id, std::string_view content,
                       std::uint8_t padding, std::uint8_t version) {
  std::string out;
  out.push_back(static_cast<char>(version));
  out.push_back(static_cast<char>(type));
  out.push_back(static_cast<char>(id >> 8U));
  out.push_back(static_cast<char>(id & 0xffU));
  out.push_back(static_cast<char>(content.size() >> 8U));
  out.push_back(static_cast<char>(content.size() & 0xffU));
  out.push_back(static_cast<char>(padding));
  out.push_back('\0');
  out.append(content);
  out.append(padding, '\0');
  return out;
}

std::size_t rss_kib(int pid) {
  std::ifstream status(pid == 0 ? std::string("/proc/self/status")
                                : "/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(status, line);) {
    if (line.starts_with("VmRSS:")) return std::stoul(line.substr(6));
  }
  return 0;
}

child_app::child_app(const std::string& program, std::uint64_t max_files)
    : where_(listener::unix_socket()) {
  int err[2];  // NOLINT(modernize-avoid-c-arrays)
  if (::pipe2(err, O_CLOEXEC) != 0) fail("pipe2");
  pid_ = ::fork();
  if (pid_ < 0) fail("fork");
  if (pid_ == 0) {  // only async-signal-safe calls until exec
    ::dup2(where_.fd, STDIN_FILENO);
    ::dup2(err[1], STDERR_FILENO);
    if (max_files > 0) {
      const rlimit limit{max_files, max_files};
      ::setrlimit(RLIMIT_NOFILE, &limit);
    }
    char* argv[] = {const_cast<char*>(program.c_str()), nullptr};  // NOLINT: execv's signature
    ::execv(program.c_str(), argv);
    ::_exit(127);
  }
  ::close(err[1]);
  ::close(where_.fd);
  stderr_fd_ = err[0];
  ::fcntl(stderr_fd_, F_SETFL, O_NONBLOCK);
}

child_app::~child_app() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  ::close(stderr_fd_);
  std::error_code ignored;
  std::filesystem::remove_all(std::filesystem::path(where_.unix_path).parent_path(), ignored);
}

int child_app::connect() const {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strncpy(address.sun_path, where_.unix_path.c_str(), sizeof(address.sun_path) - 1);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0)
    fail("connect");  // NOLINT
  set_timeouts(fd);
  return fd;
}

void child_app::send_signal(int number) const { ::kill(pid_, number); }

std::optional<int> child_app::wait_exit(std::chrono::milliseconds deadline) {
  const auto until = std::chrono::steady_clock::now() + deadline;
  for (;;) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    if (std::chrono::steady_clock::now() >= until) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

std::string child_app::stderr_text() {
  std::array<char, 4096> buffer{};
  for (ssize_t n; (n = ::read(stderr_fd_, buffer.data(), buffer.size())) > 0;) {
    stderr_.append(buffer.data(), static_cast<std::size_t>(n));
  }
  return stderr_;
}

bool child_app::wait_for_stderr(std::string_view text, std::chrono::milliseconds deadline) {
  const auto until = std::chrono::steady_clock::now() + deadline;
  while (stderr_text().find(text) == std::string::npos) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        until - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{stderr_fd_, POLLIN, 0};
    ::poll(&p, 1, static_cast<int>(left.count()));
  }
  return true;
}

std::size_t child_app::open_fds() const {
  std::error_code ignored;
  const std::filesystem::directory_iterator fds("/proc/" + std::to_string(pid_) + "/fd", ignored);
  return static_cast<std::size_t>(std::distance(fds, std::filesystem::directory_iterator{}));
}

std::uint64_t child_app::cpu_ticks() const {
  std::ifstream file("/proc/" + std::to_string(pid_) + "/stat");
  std::string stat;
  std::getline(file, stat);
  // Fields 14 and 15 (utime, stime) counted after the command name, which may hold spaces.
  std::istringstream fields(stat.substr(stat.rfind(')') + 2));
  std::string skip;
  for (int i = 3; i < 14; ++i) fields >> skip;
  std::uint64_t user = 0;
  std::uint64_t system = 0;
  fields >> user >> system;
  return user + system;
}

}  // namespace fcgi::test
