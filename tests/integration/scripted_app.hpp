// A FastCGI application played by a test thread, for hostile-application tests of the
// client side: it accepts connections on a unix socket and runs a script on each.
#pragma once

#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "harness.hpp"

namespace fcgi::test {

/// An application played by a test thread: accepts connections on a unix socket and runs
/// `script` on each, with the request bytes already read up to the empty STDIN record.
class scripted_app {
 public:
  using script = std::function<void(int fd, int connection_index)>;
  explicit scripted_app(script s) : where_(listener::unix_socket()), script_(std::move(s)) {
    thread_ = std::thread([this] { serve(); });
  }
  ~scripted_app() {
    stop_ = true;
    ::shutdown(where_.fd, SHUT_RDWR);
    thread_.join();
    ::close(where_.fd);
  }
  scripted_app(const scripted_app&) = delete;
  scripted_app& operator=(const scripted_app&) = delete;
  [[nodiscard]] std::string endpoint() const { return "unix:" + where_.unix_path; }

 private:
  void serve() {
    for (int index = 0; !stop_; ++index) {
      const int fd = ::accept4(where_.fd, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) return;
      script_(fd, index);
      ::close(fd);
    }
  }
  listener where_;
  script script_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

/// Reads a whole request (up to its empty STDIN record); returns its id, 0 on EOF.
inline std::uint16_t read_request(int fd) {
  std::uint16_t id = 0;
  for (;;) {
    std::array<std::uint8_t, 8> header{};
    if (::recv(fd, header.data(), header.size(), MSG_WAITALL) != 8) return 0;
    const std::size_t length = (std::size_t{header[4]} << 8U) | header[5];
    std::string content(length + header[6], '\0');
    if (!content.empty() && ::recv(fd, content.data(), content.size(), MSG_WAITALL) !=
                                static_cast<ssize_t>(content.size()))
      return 0;
    id = static_cast<std::uint16_t>((header[2] << 8U) | header[3]);
    if (header[1] == 5 && length == 0) return id;  // empty STDIN
  }
}

inline void send_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n <= 0) return;
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
}

inline std::string end_request(std::uint16_t id) { return raw_record(3, id, std::string(8, '\0')); }

/// END_REQUEST with `app_status` and `protocol_status` (§5.5: 1 CANT_MPX_CONN, 2 OVERLOADED,
/// 3 UNKNOWN_ROLE).
inline std::string end_request(std::uint16_t id, std::uint32_t app_status,
                               std::uint8_t protocol_status) {
  std::string body(8, '\0');
  for (std::size_t i = 0; i < 4; ++i)
    body[i] = static_cast<char>((app_status >> (24U - 8U * i)) & 0xffU);
  body[4] = static_cast<char>(protocol_status);
  return raw_record(3, id, body);
}

/// `bytes` as records of `type` (at most 65535 bytes each), without the empty closing one.
inline std::string stream_records(std::uint8_t type, std::uint16_t id, std::string_view bytes) {
  std::string out;
  for (std::size_t at = 0; at < bytes.size(); at += 65535)
    out += raw_record(type, id, bytes.substr(at, 65535));
  return out;
}

/// A whole response: `stdout_bytes` on STDOUT, its empty record, END_REQUEST{COMPLETE}.
inline std::string whole_response(std::uint16_t id, std::string_view stdout_bytes) {
  return stream_records(6, id, stdout_bytes) + raw_record(6, id, "") + end_request(id);
}

struct record_in {
  std::uint8_t type = 0;
  std::uint16_t id = 0;
  std::string content;
};

/// Reads one record (content without its padding); nothing on EOF or a read error.
inline std::optional<record_in> read_record(int fd) {
  std::array<std::uint8_t, 8> header{};
  if (::recv(fd, header.data(), header.size(), MSG_WAITALL) != 8) return std::nullopt;
  const std::size_t length = (std::size_t{header[4]} << 8U) | header[5];
  std::string content(length + header[6], '\0');
  if (!content.empty() && ::recv(fd, content.data(), content.size(), MSG_WAITALL) !=
                              static_cast<ssize_t>(content.size()))
    return std::nullopt;
  content.resize(length);
  return record_in{header[1], static_cast<std::uint16_t>((header[2] << 8U) | header[3]),
                   std::move(content)};
}

}  // namespace fcgi::test
