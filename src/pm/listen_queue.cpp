#include <fcgi/pm/listen_queue.hpp>

#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstring>

namespace fcgi::pm {
namespace {

/// UNIX_DIAG_RQLEN of the unix socket with inode `inode`: for a listening socket, the
/// connections waiting to be accepted.
std::optional<std::uint32_t> unix_queue_length(ino_t inode) {
  const int diag = ::socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
  if (diag < 0) return std::nullopt;
  struct {
    nlmsghdr header;
    unix_diag_req request;
  } message{};
  message.header.nlmsg_len = sizeof(message);
  message.header.nlmsg_type = SOCK_DIAG_BY_FAMILY;
  message.header.nlmsg_flags = NLM_F_REQUEST;
  message.request.sdiag_family = AF_UNIX;
  message.request.udiag_states = ~0U;
  message.request.udiag_ino = static_cast<std::uint32_t>(inode);
  message.request.udiag_show = UDIAG_SHOW_RQLEN;
  message.request.udiag_cookie[0] = ~0U;  // INET_DIAG_NOCOOKIE: any socket with this inode
  message.request.udiag_cookie[1] = ~0U;
  std::optional<std::uint32_t> result;
  if (::send(diag, &message, sizeof(message), 0) != static_cast<ssize_t>(sizeof(message))) {
    ::close(diag);
    return result;
  }
  // The reply, read field by field with memcpy (no cast of the buffer): an nlmsghdr, a
  // unix_diag_msg, then rtattrs, each aligned to 4 bytes.
  std::array<unsigned char, 1024> reply{};
  const ssize_t got = ::recv(diag, reply.data(), reply.size(), 0);
  ::close(diag);
  const auto align = [](std::size_t n) { return (n + 3) & ~std::size_t{3}; };
  nlmsghdr header{};
  if (got < static_cast<ssize_t>(sizeof(header))) return result;
  std::memcpy(&header, reply.data(), sizeof(header));
  const std::size_t end = std::min<std::size_t>(header.nlmsg_len, static_cast<std::size_t>(got));
  if (header.nlmsg_type != SOCK_DIAG_BY_FAMILY) return result;
  std::size_t at = align(sizeof(nlmsghdr)) + align(sizeof(unix_diag_msg));
  while (at + sizeof(rtattr) <= end) {
    rtattr attribute{};
    std::memcpy(&attribute, reply.data() + at, sizeof(attribute));
    if (attribute.rta_len < sizeof(rtattr) || at + attribute.rta_len > end) break;
    const std::size_t payload = attribute.rta_len - align(sizeof(rtattr));
    if (attribute.rta_type == UNIX_DIAG_RQLEN && payload >= sizeof(unix_diag_rqlen)) {
      unix_diag_rqlen queue{};
      std::memcpy(&queue, reply.data() + at + align(sizeof(rtattr)), sizeof(queue));
      result = queue.udiag_rqueue;
    }
    at += align(attribute.rta_len);
  }
  return result;
}

}  // namespace

std::optional<std::uint32_t> listen_queue_length(int fd) {
  sockaddr_storage address{};
  socklen_t size = sizeof(address);
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size) != 0) {  // NOLINT
    return std::nullopt;
  }
  if (address.ss_family == AF_UNIX) {
    struct stat info {};
    if (::fstat(fd, &info) != 0) return std::nullopt;
    return unix_queue_length(info.st_ino);
  }
  if (address.ss_family == AF_INET || address.ss_family == AF_INET6) {
    tcp_info info{};
    socklen_t length = sizeof(info);
    if (::getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &length) != 0) return std::nullopt;
    return info.tcpi_unacked;  // on a listening socket: the accept queue
  }
  return std::nullopt;
}

}  // namespace fcgi::pm
