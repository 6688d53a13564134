// How many connections wait in a listening socket's accept queue: the manager's view of load
// for workers that do not report to a scoreboard (libfcgi, Go). A connection waiting means
// every worker is busy.
#pragma once

#include <cstdint>
#include <optional>

namespace fcgi::pm {

/// The accept queue length of the listening socket `fd`: for a unix socket from sock_diag
/// (UNIX_DIAG_RQLEN of the socket's inode), for TCP from TCP_INFO (tcpi_unacked of a
/// listening socket is its accept queue). Empty when it cannot be read (no netlink, not a
/// listening socket).
std::optional<std::uint32_t> listen_queue_length(int fd);

}  // namespace fcgi::pm
