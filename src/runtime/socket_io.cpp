#include <fcgi/runtime/socket_io.hpp>

#include <sys/socket.h>
#include <sys/uio.h>

#include <array>
#include <cerrno>
#include <span>

namespace fcgi::runtime {

namespace {

constexpr std::size_t max_write_slices = 64;
// A typical response is a handful of slices (its records, copied into the queue's one buffer,
// are a single slice). Gathering into a short array first avoids constructing 64 slices and
// 64 iovecs per write; a longer queue takes the long path.
constexpr std::size_t few_write_slices = 8;

write_outcome send_slices(int fd, protocol::output_queue& out,
                          std::span<const protocol::bytes_view> slices) noexcept {
  // NOLINTNEXTLINE(cppcoreguidelines-pro-type-member-init): only the first slices.size() are used
  std::array<iovec, max_write_slices> iov;
  for (std::size_t i = 0; i < slices.size(); ++i) {
    iov[i].iov_base = const_cast<std::byte*>(slices[i].data());  // NOLINT: iovec takes void*
    iov[i].iov_len = slices[i].size();
  }
  msghdr message{};
  message.msg_iov = iov.data();
  message.msg_iovlen = slices.size();
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

}  // namespace

write_outcome write_pending(int fd, protocol::output_queue& out) noexcept {
  std::array<protocol::bytes_view, few_write_slices> few;
  const std::size_t count = out.gather(few);
  if (count < few.size()) return send_slices(fd, out, std::span(few).first(count));
  std::array<protocol::bytes_view, max_write_slices> slices;
  return send_slices(fd, out, std::span(slices).first(out.gather(slices)));
}

}  // namespace fcgi::runtime
