#include <fcgi/server/server.hpp>

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <stdexcept>
#include <system_error>
#include <thread>

#include "cgi.hpp"
#include "worker.hpp"

namespace fcgi {

namespace {

[[noreturn]] void usage(const char* program, int status) {
  std::ostream& out = status == 0 ? std::cout : std::cerr;
  out << "usage: " << program << " [--listen ENDPOINT]... [--threads N] [--handler-threads N]\n"
      << "       [--request-timeout DURATION] [--socket-mode MODE] [--content-length-minus-one]\n"
      << "\n"
      << "A FastCGI application built with fcgikit.\n"
      << "\n"
      << "With no --listen it serves the listening socket on fd 0 (as web servers, spawn-fcgi\n"
      << "and fcgi-pm start FastCGI applications) or the sockets of systemd socket activation\n"
      << "(LISTEN_FDS). Started as a CGI program, it answers that one request and exits.\n"
      << "\n"
      << "  --listen ENDPOINT  unix:PATH, tcp:HOST:PORT, tcp:[IPV6]:PORT or tcp:PORT\n"
      << "  --threads N        I/O threads (default 1)\n"
      << "  --handler-threads N\n"
      << "                     run handlers on a pool of N threads, for handlers that block\n"
      << "                     (a database call); default 0 runs them on the I/O threads\n"
      << "  --request-timeout DURATION\n"
      << "                     cancel a request whose handler still runs after DURATION\n"
      << "                     (30, 30s, 500ms, 2m, 1h; default 0 = never)\n"
      << "  --socket-mode MODE permissions of unix sockets made by --listen, octal (e.g. 660)\n"
      << "  --content-length-minus-one\n"
      << "                     accept CONTENT_LENGTH=-1 as \"length unknown\" (Caddy 2.6 sends\n"
      << "                     it for chunked bodies; the body is read to its end either way)\n"
      << "  --help             this text\n"
      << "\n"
      << "Environment: FCGI_WEB_SERVER_ADDRS=ADDR,... accepts TCP connections only from\n"
      << "these addresses (FastCGI spec 3.2). FCGI_PM_SCOREBOARD=FD, set by fcgi-pm, names\n"
      << "the page where the app reports its requests and threads to its process manager.\n";
  std::exit(status);
}

/// "30", "30s", "500ms", "2m", "1h" (a bare number is seconds); nullopt when malformed.
std::optional<std::chrono::milliseconds> parse_duration(const std::string& text) {
  char* end = nullptr;
  errno = 0;
  const unsigned long long count = std::strtoull(text.c_str(), &end, 10);
  if (text.empty() || text.front() == '-' || end == text.c_str() || errno != 0) return std::nullopt;
  const std::string_view unit(end);
  const std::uint64_t scale = unit.empty() || unit == "s" ? 1000
                              : unit == "ms"              ? 1
                              : unit == "m"               ? 60'000
                              : unit == "h"               ? 3'600'000
                                                          : 0;
  // Past a year is a typo, not a deadline.
  if (scale == 0 || count > 365ULL * 24 * 3'600'000 / scale) return std::nullopt;
  return std::chrono::milliseconds(static_cast<std::chrono::milliseconds::rep>(count * scale));
}

/// Reports to the process manager when one passed a scoreboard. A bad one is logged and
/// ignored: the application serves either way.
void attach_scoreboard(detail::shared_state& shared, unsigned threads) {
  try {
    shared.scoreboard = runtime::scoreboard_writer::attach_from_environment(threads);
  } catch (const std::exception& e) {
    shared.log(std::string("not reporting to the process manager: ") + e.what());
  }
}

}  // namespace

server_config server_config::from_args(int argc, char** argv) {
  server_config config;
  const char* program = argc > 0 ? argv[0] : "app";
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    const auto value = [&](std::string_view name) -> std::string {
      if (arg.size() > name.size() && arg.starts_with(name) && arg[name.size()] == '=') {
        return std::string(arg.substr(name.size() + 1));
      }
      if (i + 1 >= argc) {
        std::cerr << program << ": " << name << " needs a value\n";
        usage(program, 2);
      }
      return argv[++i];
    };
    if (arg == "--help" || arg == "-h") usage(program, 0);
    if (arg.starts_with("--handler-threads")) {
      const std::string text = value("--handler-threads");
      const int n = std::atoi(text.c_str());
      if (n < 0 || n > 1024 || (n == 0 && text != "0")) {
        std::cerr << program << ": --handler-threads must be 0..1024, got '" << text << "'\n";
        usage(program, 2);
      }
      config.handler_threads = static_cast<unsigned>(n);
    } else if (arg.starts_with("--request-timeout")) {
      const std::string text = value("--request-timeout");
      const std::optional<std::chrono::milliseconds> timeout = parse_duration(text);
      if (!timeout) {
        std::cerr << program << ": --request-timeout must be a duration like 30s, 500ms, 2m or 0, "
                  << "got '" << text << "'\n";
        usage(program, 2);
      }
      config.request_timeout = *timeout;
    } else if (arg.starts_with("--listen")) {
      config.listen.push_back(value("--listen"));
    } else if (arg.starts_with("--threads")) {
      const std::string text = value("--threads");
      const int n = std::atoi(text.c_str());
      if (n < 1 || n > 1024) {
        std::cerr << program << ": --threads must be 1..1024, got '" << text << "'\n";
        usage(program, 2);
      }
      config.threads = static_cast<unsigned>(n);
    } else if (arg.starts_with("--socket-mode")) {
      const std::string text = value("--socket-mode");
      char* end = nullptr;
      const unsigned long mode = std::strtoul(text.c_str(), &end, 8);
      if (text.empty() || *end != '\0' || mode > 0777) {
        std::cerr << program << ": --socket-mode must be octal permissions like 660, got '" << text
                  << "'\n";
        usage(program, 2);
      }
      config.socket_mode = static_cast<unsigned>(mode);
    } else if (arg == "--content-length-minus-one") {
      config.protocol.params.accept_minus_one_content_length = true;
    } else {
      std::cerr << program << ": unknown option '" << arg << "'\n";
      usage(program, 2);
    }
  }
  return config;
}

server::server(server_config config) : impl_(std::make_unique<impl>(std::move(config))) {}
server::~server() = default;

server& server::responder(handler h) {
  impl_->shared.handlers[static_cast<std::size_t>(protocol::role::responder)] = std::move(h);
  return *this;
}
server& server::authorizer(handler h) {
  impl_->shared.handlers[static_cast<std::size_t>(protocol::role::authorizer)] = std::move(h);
  return *this;
}
server& server::filter(handler h) {
  impl_->shared.handlers[static_cast<std::size_t>(protocol::role::filter)] = std::move(h);
  return *this;
}

void server::impl::stop_workers() {
  std::lock_guard lock(workers_mutex);
  for (auto& w : workers) w->request_stop();
}

std::vector<int> server::impl::find_listeners() {
  if (!shared.config.listen_fds.empty()) return shared.config.listen_fds;
  if (runtime::is_listening_socket(STDIN_FILENO)) return {STDIN_FILENO};
  std::vector<int> fds = runtime::take_systemd_listeners();
  if (!fds.empty()) return fds;
  runtime::listen_options options;
  if (shared.config.socket_mode != 0) options.mode = static_cast<mode_t>(shared.config.socket_mode);
  for (const std::string& text : shared.config.listen) {
    fds.push_back(runtime::open_listener(runtime::parse_endpoint(text), options));
  }
  return fds;
}

int server::run() {
  try {
    return run_or_throw();
  } catch (const std::exception& e) {
    impl_->shared.log(std::string("cannot start: ") + e.what());
    return 1;
  }
}

int server::run_or_throw() {
  detail::shared_state& shared = impl_->shared;
  protocol::app_settings& settings = shared.config.protocol;
  settings.accepted_roles = 0;
  for (const protocol::role r :
       {protocol::role::responder, protocol::role::authorizer, protocol::role::filter}) {
    const auto index = static_cast<std::size_t>(r);
    if (shared.handlers[index] || shared.async_handlers[index]) {
      settings.accepted_roles |= protocol::role_bit(r);
    }
  }
  // GET_VALUES answers the real limits (spec 4.1).
  settings.advertised_max_conns =
      static_cast<std::uint32_t>(std::min<std::size_t>(shared.config.max_connections, UINT32_MAX));
  settings.advertised_max_reqs =
      static_cast<std::uint32_t>(std::min<std::size_t>(shared.config.max_requests, UINT32_MAX));
  // A connection cannot run more requests than the whole server: past that, a BEGIN_REQUEST is
  // refused at once (HOSTILE A-20) instead of holding an id until its params end.
  settings.max_requests = static_cast<std::uint32_t>(
      std::min<std::size_t>(settings.max_requests, shared.config.max_requests));

  std::vector<int> fds = impl_->find_listeners();
  if (fds.empty()) {
    if (detail::started_as_cgi()) return detail::serve_cgi(shared.handlers, shared.config);
    throw std::runtime_error(
        "no socket to serve: fd 0 is not a listening socket, LISTEN_FDS is not set and no "
        "--listen ENDPOINT was given; start the app under a web server, spawn-fcgi or fcgi-pm, "
        "or pass --listen unix:/path/app.sock");
  }
  shared.allowlist = runtime::address_allowlist::from_environment();
  std::signal(SIGPIPE, SIG_IGN);  // belt and braces: every send uses MSG_NOSIGNAL

  const unsigned count = std::max(1U, shared.config.threads);
  attach_scoreboard(shared, count);
  if (shared.config.handler_threads > 0) {
    shared.pool = std::make_unique<detail::handler_pool>(shared.config.handler_threads, shared);
  }
  {
    std::lock_guard lock(impl_->workers_mutex);
    for (unsigned i = 0; i < count; ++i) {
      impl_->workers.push_back(
          std::make_unique<detail::worker>(shared, i, fds, i == 0 && shared.config.handle_signals));
    }
    impl_->workers.front()->on_signal = [this] { impl_->stop_workers(); };
  }
  for (const int fd : fds) {
    if (fd != STDIN_FILENO) ::close(fd);  // each worker holds its own duplicate
  }
  if (shared.stopping) impl_->stop_workers();

  std::vector<std::thread> threads;
  for (unsigned i = 1; i < count; ++i) {
    threads.emplace_back([w = impl_->workers[i].get()] { w->run(); });
  }
  impl_->workers.front()->run();
  for (std::thread& t : threads) t.join();
  // Before the workers go: a pool thread may still post to their event loops. Every
  // connection is closed by now, so each running pool handler is cancelled.
  if (shared.pool) shared.pool->stop_and_join();
  {
    std::lock_guard lock(impl_->workers_mutex);
    impl_->workers.clear();
  }
  shared.pool.reset();
  return 0;
}

void server::stop() noexcept {
  impl_->shared.stopping = true;
  impl_->stop_workers();
}

server::stats server::statistics() const noexcept {
  const detail::shared_state& shared = impl_->shared;
  return {shared.connections_accepted.load(), shared.requests_completed.load(),
          shared.requests_overloaded.load(), shared.protocol_errors.load()};
}

}  // namespace fcgi
