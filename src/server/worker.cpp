#include "worker.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>

#include <cerrno>
#include <csignal>
#include <ctime>
#include <exception>
#include <iostream>

namespace fcgi::detail {

struct signal_waiter {
  asio::signal_set set;
  explicit signal_waiter(asio::io_context& io) : set(io, SIGTERM, SIGINT) {}
};

namespace {
constexpr auto sweep_period = std::chrono::seconds(1);
}  // namespace

void shared_state::log(std::string_view line) const {
  if (config.log) {
    config.log(line);
    return;
  }
  char stamp[32] = {};  // NOLINT(modernize-avoid-c-arrays)
  const std::time_t now = std::time(nullptr);
  tm parts{};
  ::localtime_r(&now, &parts);
  std::strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &parts);
  std::string text = std::string(stamp) + " fcgikit[" + std::to_string(::getpid()) + "] ";
  text.append(line).push_back('\n');
  ::write(STDERR_FILENO, text.data(), text.size());  // one write: lines never interleave
}

worker::worker(shared_state& state, unsigned number, const std::vector<int>& listen_fds,
               bool handle_signals)
    : shared(state),
      index(number),
      read_buffer(std::make_unique_for_overwrite<std::byte[]>(read_buffer_size)),  // NOLINT
      sweep_(io),
      grace_(io) {
  for (const int fd : listen_fds) {
    const int own = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (own < 0) throw std::system_error(errno, std::generic_category(), "dup listening socket");
    acceptor a;
    a.descriptor = std::make_unique<asio::posix::stream_descriptor>(io, own);
    a.descriptor->non_blocking(true);
    acceptors_.push_back(std::move(a));
  }
  if (handle_signals) {
    signals_ = std::make_unique<signal_waiter>(io);
    signals_->set.async_wait([this](const boost::system::error_code& ec, int signal) {
      if (ec) return;
      shared.log(std::string("received ") + (signal == SIGTERM ? "SIGTERM" : "SIGINT") +
                 ", stopping gracefully");
      shared.stopping = true;
      // The server object relays the stop to every worker.
      if (on_signal) on_signal();
    });
  }
}

// If closing or a completion throws here, the drain cannot finish and connections would later
// unlink themselves from a destroyed worker: terminating (the implicit noexcept) is intended.
worker::~worker() {  // NOLINT(bugprone-exception-escape): drain or terminate, see above
  // Run the cancelled completions now, while every member they touch is alive: each holds a
  // connection whose destructor unlinks itself from this worker.
  boost::system::error_code ignored;
  for (acceptor& a : acceptors_) a.descriptor->close(ignored);
  sweep_.cancel();
  grace_.cancel();
  if (signals_) signals_->set.cancel(ignored);
  stopping_ = true;
  for (connection* c = connections_; c != nullptr;) {
    connection* next = c->next;
    c->close();
    c = next;
  }
  io.restart();
  io.run();
}

void worker::run() {
  for (acceptor& a : acceptors_) arm_accept(a);
  arm_sweep();
  io.run();
}

void worker::arm_accept(acceptor& a) {
  if (a.armed || stopping_ || paused_) return;
  a.descriptor->async_wait(asio::posix::stream_descriptor::wait_read,
                           [this, &a](const boost::system::error_code& ec) {
                             a.armed = false;
                             if (!ec) on_acceptable(a);
                           });
  // Set once the wait is queued (its handler never runs inside async_wait), so a wait that
  // failed to queue is armed again later.
  a.armed = true;
}

void worker::on_acceptable(acceptor& a) {
  // Several threads (and processes) may wait on one listening socket: EAGAIN just means
  // another took the connection.
  for (int accepted = 0; accepted < 64; ++accepted) {
    if (shared.connections.load(std::memory_order_relaxed) >= shared.config.max_connections) {
      paused_ = true;  // resumed when a connection closes; the rest wait in the listen queue
      return;
    }
    const int fd =
        ::accept4(a.descriptor->native_handle(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno == EMFILE || errno == ENFILE) {
        // Out of descriptors: back off to the sweep instead of spinning on a ready socket.
        shared.log("accept: out of file descriptors; pausing accepts for a second");
        paused_ = true;
        return;
      }
      break;  // EAGAIN, or an error the next readiness will repeat
    }
    std::string peer = runtime::peer_address(fd);
    if (!shared.allowlist.allows(peer)) {
      shared.log("refused connection from " + (peer.empty() ? std::string("a unix peer") : peer) +
                 ": not in FCGI_WEB_SERVER_ADDRS");
      ::close(fd);
      continue;
    }
    shared.connections.fetch_add(1, std::memory_order_relaxed);
    ++shared.connections_accepted;
    std::make_shared<connection>(*this, fd, std::move(peer))->start();
  }
  arm_accept(a);
}

void worker::arm_sweep() {
  sweep_.expires_after(sweep_period);
  sweep_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    const clock::time_point now = clock::now();
    for (connection* c = connections_; c != nullptr;) {
      connection* next = c->next;
      // Keep the connection alive while it closes itself.
      const auto keep = c->shared_from_this();
      c->check_deadlines(now);
      c = next;
    }
    if (paused_ && !stopping_) {
      paused_ = false;
      for (acceptor& a : acceptors_) arm_accept(a);
    }
    if (shared.stopping && !stopping_) begin_stop();
    if (shared.scoreboard) report_to_scoreboard();
    finish_if_drained();
    if (!io.stopped()) arm_sweep();
  });
}

void worker::report_to_scoreboard() {
  shared.scoreboard->heartbeat(index);
  if (index != 0) return;
  shared.scoreboard->publish({shared.requests_completed.load(std::memory_order_relaxed),
                              shared.requests_in_flight.load(std::memory_order_relaxed),
                              shared.connections.load(std::memory_order_relaxed),
                              shared.connections_accepted.load(std::memory_order_relaxed)});
}

void worker::request_stop() {
  asio::post(io, [this] { begin_stop(); });
}

void worker::begin_stop() {
  if (stopping_) return;
  stopping_ = true;
  for (acceptor& a : acceptors_) {
    boost::system::error_code ignored;
    a.descriptor->close(ignored);
  }
  for (connection* c = connections_; c != nullptr;) {
    connection* next = c->next;
    const auto keep = c->shared_from_this();
    c->begin_stop();
    c = next;
  }
  grace_.expires_after(shared.config.stop_grace);
  grace_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    if (connection_count_ != 0) {
      shared.log("stop grace expired with " + std::to_string(connection_count_) +
                 " connection(s) busy; closing them");
    }
    for (connection* c = connections_; c != nullptr;) {
      connection* next = c->next;
      const auto keep = c->shared_from_this();
      c->close();
      c = next;
    }
    io.stop();
  });
  finish_if_drained();
}

void worker::finish_if_drained() {
  if (stopping_ && connection_count_ == 0) io.stop();
}

void worker::add(connection& c) noexcept {
  c.next = connections_;
  if (connections_ != nullptr) connections_->prev = &c;
  connections_ = &c;
  ++connection_count_;
}

void worker::remove(connection& c) noexcept {
  if (c.prev != nullptr) c.prev->next = c.next;
  if (c.next != nullptr) c.next->prev = c.prev;
  if (connections_ == &c) connections_ = c.next;
  --connection_count_;
  // Called from connection destructors, so nothing may escape. Queueing the accept waits and
  // the drain check can fail only to allocate; the sweep then retries both within a period.
  try {
    if (paused_ && !stopping_ && shared.connections.load() < shared.config.max_connections) {
      paused_ = false;
      for (acceptor& a : acceptors_) arm_accept(a);
    }
    if (stopping_ && connection_count_ == 0) asio::post(io, [this] { finish_if_drained(); });
  } catch (const std::exception&) {
    paused_ = true;  // the sweep arms the acceptors left unarmed and calls finish_if_drained()
  }
}

}  // namespace fcgi::detail
