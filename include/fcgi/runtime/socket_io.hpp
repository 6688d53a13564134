// Moving a protocol output queue onto a non-blocking socket: the one place both runtimes
// (server and client) turn queued records into a system call.
#pragma once

#include <cstddef>

#include <fcgi/protocol/output_queue.hpp>

namespace fcgi::runtime {

struct write_outcome {
  std::size_t bytes = 0;  ///< consumed from the queue
  int error = 0;          ///< 0, EAGAIN (try when writable), or the errno that broke the socket
};

/// One sendmsg of as many queued slices as fit, non-blocking and without SIGPIPE (a peer that
/// vanished must not kill the process: HOSTILE C-39). Consumes what was written; EINTR is
/// retried.
write_outcome write_pending(int fd, protocol::output_queue& out) noexcept;

}  // namespace fcgi::runtime
