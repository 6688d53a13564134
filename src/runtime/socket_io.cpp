#include <fcgi/runtime/socket_io.hpp>

#include <sys/socket.h>
#include <sys/uio.h>

#include <array>
#include <cerrno>

namespace fcgi::runtime {

namespace {
constexpr std::size_t max_write_slices = 64;
}

write_outcome write_pending(int fd, protocol::output_queue& out) noexcept {
  std::array<protocol::bytes_view, max_write_slices> slices;
  const std::size_t count = out.gather(slices);
  std::array<iovec, max_write_slices> iov{};
  for (std::size_t i = 0; i < count; ++i) {
    iov[i].iov_base = const_cast<std::byte*>(slices[i].data());  // NOLINT: iovec takes void*
    iov[i].iov_len = slices[i].size();
  }
  msghdr message{};
  message.msg_iov = iov.data();
  message.msg_iovlen = count;
  for (;;) {
    const ssize_t n = ::sendmsg(fd, &message, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n >= 0) {
      out.consume(static_cast<std::size_t>(n));
      return {static_cast<std::size_t>(n), 0};
    }
    if (errno == EINTR) continue;
    if (errno == EWOULDBLOCK) return {0, EAGAIN};
    return {0, errno};
  }
}

}  // namespace fcgi::runtime
