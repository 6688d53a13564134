#include <fcgi/pm/supervisor.hpp>

#include <poll.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <optional>
#include <system_error>
#include <utility>

#include <fcgi/pm/backoff.hpp>
#include <fcgi/pm/health.hpp>
#include <fcgi/pm/listen_queue.hpp>
#include <fcgi/pm/spawn.hpp>
#include <fcgi/pm/status.hpp>
#include <fcgi/runtime/scoreboard.hpp>

namespace fcgi::pm {
namespace {

using std::chrono::milliseconds;

/// "3 ms", "0.2 s", "8 s", "12.3 s".
std::string seconds_text(clock::duration d) {
  const double seconds = std::chrono::duration<double>(d).count();
  char text[32] = {};  // NOLINT(modernize-avoid-c-arrays)
  if (seconds < 0.1) {
    std::snprintf(text, sizeof(text), "%.0f ms", seconds * 1000);
  } else if (seconds >= 10 || seconds == static_cast<double>(static_cast<long>(seconds))) {
    std::snprintf(text, sizeof(text), "%.0f s", seconds);
  } else {
    std::snprintf(text, sizeof(text), "%.1f s", seconds);
  }
  return text;
}

/// "SIGTERM", "SIGQUIT".
std::string signal_name(int signal) {
  const char* name = ::sigabbrev_np(signal);
  return name != nullptr ? "SIG" + std::string(name) : "signal " + std::to_string(signal);
}

/// "exited with status 1", "was killed by SIGKILL", "was killed by SIGSEGV (core dumped)".
std::string exit_text(int status) {
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    const char* name = ::sigabbrev_np(WTERMSIG(status));
    std::string text =
        "was killed by " + (name != nullptr ? "SIG" + std::string(name)
                                            : "signal " + std::to_string(WTERMSIG(status)));
    if (WCOREDUMP(status)) text += " (core dumped)";
    return text;
  }
  return "ended with wait status " + std::to_string(status);
}

/// A listening socket the manager opened. Closed when the last pool or worker holding it lets
/// go; a unix socket file is then removed if it is still the one this manager made.
struct listener {
  int fd = -1;
  runtime::endpoint where;
  dev_t device = 0;
  ino_t inode = 0;

  listener() = default;
  listener(const listener&) = delete;
  listener& operator=(const listener&) = delete;
  listener(listener&&) = delete;
  listener& operator=(listener&&) = delete;
  ~listener() {
    if (fd >= 0) ::close(fd);
    struct stat info {};
    if (where.type == runtime::endpoint::kind::unix_socket && inode != 0 &&
        ::lstat(where.path.c_str(), &info) == 0 && info.st_dev == device && info.st_ino == inode) {
      ::unlink(where.path.c_str());
    }
  }
};

runtime::listen_options socket_options(const pool_config& pool) {
  runtime::listen_options options;
  options.backlog = pool.backlog;
  if (pool.listen.type == runtime::endpoint::kind::unix_socket) {
    options.mode = pool.socket_mode.value_or(0660);
    if (pool.socket_owner) options.owner = resolve_user_id(*pool.socket_owner, pool.name);
    if (pool.socket_group) options.group = resolve_group_id(*pool.socket_group, pool.name);
  }
  return options;
}

std::shared_ptr<listener> open_pool_listener(const pool_config& pool) {
  auto made = std::make_shared<listener>();
  made->where = pool.listen;
  try {
    made->fd = runtime::open_listener(pool.listen, socket_options(pool));
  } catch (const std::system_error& e) {
    throw std::system_error(e.code(), "pool " + pool.name + ": " + e.what());
  }
  struct stat info {};
  if (pool.listen.type == runtime::endpoint::kind::unix_socket &&
      ::lstat(pool.listen.path.c_str(), &info) == 0) {
    made->device = info.st_dev;
    made->inode = info.st_ino;
  }
  return made;
}

/// Applies socket_mode / owner / group again to a unix socket kept across a reload.
void refresh_socket_file(const pool_config& pool) {
  if (pool.listen.type != runtime::endpoint::kind::unix_socket) return;
  const runtime::listen_options options = socket_options(pool);
  if (options.mode) ::chmod(pool.listen.path.c_str(), *options.mode);
  if (options.owner || options.group) {
    [[maybe_unused]] const int rc =
        ::chown(pool.listen.path.c_str(), options.owner.value_or(static_cast<uid_t>(-1)),
                options.group.value_or(static_cast<gid_t>(-1)));
  }
}

/// How long a worker may stay silent on its scoreboard before the manager says, once per
/// pool, that max_requests and request_timeout cannot apply to it.
constexpr std::chrono::seconds attach_patience{5};

/// The session of `pid` (/proc/PID/stat), 0 when it cannot be read.
pid_t session_of(pid_t pid) {
  std::FILE* stat = std::fopen(("/proc/" + std::to_string(pid) + "/stat").c_str(), "re");
  if (stat == nullptr) return 0;
  char text[512] = {};  // NOLINT(modernize-avoid-c-arrays)
  const std::size_t got = std::fread(text, 1, sizeof(text) - 1, stat);
  std::fclose(stat);
  const std::string line(text, got);
  const auto close = line.rfind(')');
  if (close == std::string::npos) return 0;
  char state = 0;
  int parent = 0;
  int group = 0;
  int session = 0;
  if (std::sscanf(line.c_str() + close + 1, " %c %d %d %d", &state, &parent, &group,  // NOLINT
                  &session) != 4) {
    return 0;
  }
  return session;
}

/// The pid in scoreboard::read's "written by pid N, expected M", 0 for any other error.
pid_t writer_named(const std::string& error) {
  constexpr std::string_view prefix = "written by pid ";
  if (!error.starts_with(prefix)) return 0;
  return static_cast<pid_t>(std::strtol(error.c_str() + prefix.size(), nullptr, 10));  // NOLINT
}

struct worker {
  pid_t pid = 0;
  unsigned generation = 0;
  clock::time_point started;
  bool survived = false;  ///< has been up min_uptime
  bool stopping = false;  ///< SIGTERM sent by the manager
  bool killed = false;    ///< SIGKILL sent by the manager
  bool recycle = false;   ///< judged for replacement: replaced like a worker of an older generation
  clock::time_point kill_at;
  std::shared_ptr<listener> socket;  ///< the socket it was given, kept open while it lives
  /// Its scoreboard (fd 3 in the worker), read every health check; lives as long as the record.
  std::optional<runtime::scoreboard> board;
  /// Who writes it: the worker, or the app a wrapper script started in its session.
  pid_t board_writer = 0;
  bool attached = false;  ///< the worker has written its scoreboard (an fcgikit application)
  worker_activity activity = worker_activity::unknown;
  std::uint64_t requests = 0;    ///< requests completed, as last reported
  clock::time_point idle_since;  ///< dynamic and ondemand pools: when it was last seen busy
  /// Handler runs already in the slow log: (thread, when the handler started).
  std::vector<std::pair<unsigned, std::chrono::nanoseconds>> slow_logged;
};

struct prepared_pool {
  pool_config config;
  std::shared_ptr<const spawn_plan> plan;
  std::shared_ptr<listener> socket;
};

struct pool_state {
  pool_config config;
  std::shared_ptr<const spawn_plan> plan;
  std::shared_ptr<listener> socket;
  unsigned generation = 0;
  std::vector<worker> workers;
  crash_tracker crashes;
  log_limiter limiter;
  clock::time_point next_start;
  bool retiring = false;  ///< removed from the config: stop its workers, then drop it
  /// After failed starts, the one worker on trial (0: none): no other start until it has
  /// been up min_uptime or has exited.
  pid_t on_trial = 0;
  std::uint64_t restarts = 0;
  /// "crash", "max_requests", "max_rss", "request_timeout", "untrusted".
  std::map<std::string, std::uint64_t> restarts_by_reason;
  std::uint64_t requests_of_gone_workers = 0;
  std::uint64_t slow_requests = 0;
  bool warned_unattached = false;
  /// Workers wanted now: `workers` for a static pool; moved by scale() for the others.
  unsigned target = 0;
  clock::time_point last_scale;

  explicit pool_state(prepared_pool p)
      : config(std::move(p.config)),
        plan(std::move(p.plan)),
        socket(std::move(p.socket)),
        crashes(config.min_uptime, config.backoff_initial, config.backoff_max),
        target(initial_size(config)) {}

  static unsigned initial_size(const pool_config& config) {
    switch (config.mode) {
      case pool_mode::static_size: return config.workers;
      case pool_mode::dynamic:
        return config.start_workers != 0
                   ? config.start_workers
                   : config.min_spare + (config.max_spare - config.min_spare) / 2;
      case pool_mode::ondemand: return 0;
    }
    return config.workers;
  }
};

std::string describe_command(const pool_config& pool) {
  std::string text;
  for (const std::string& part : pool.command) {
    if (!text.empty()) text += " ";
    text += part;
  }
  return text;
}

}  // namespace

class supervisor::impl {
 public:
  impl(supervisor_options options, const logger& log) : options_(std::move(options)), log_(log) {
    ::signal(SIGPIPE, SIG_IGN);
    // Orphaned descendants of workers (double-forked helpers) are re-parented here and reaped.
    ::prctl(PR_SET_CHILD_SUBREAPER, 1);
    sigset_t handled;
    sigemptyset(&handled);
    for (const int signal : {SIGCHLD, SIGTERM, SIGINT, SIGQUIT, SIGHUP}) {
      sigaddset(&handled, signal);
    }
    ::sigprocmask(SIG_BLOCK, &handled, nullptr);
    signal_fd_ = ::signalfd(-1, &handled, SFD_CLOEXEC | SFD_NONBLOCK);
    if (signal_fd_ < 0) throw std::system_error(errno, std::generic_category(), "signalfd");
    std::vector<pool_config> configs = options_.command_line_pools;
    if (!options_.config_file.empty()) {
      std::vector<pool_config> file = load_config_file(options_.config_file);
      configs.insert(configs.end(), file.begin(), file.end());
    }
    for (prepared_pool& p : prepare(std::move(configs))) {
      pools_.push_back(std::make_unique<pool_state>(std::move(p)));
    }
    // --status-listen wins over the file's top-level status_listen (read at start only).
    if (options_.status_listen.empty() && !options_.config_file.empty()) {
      options_.status_listen = load_status_listen(options_.config_file);
    }
    if (!options_.status_listen.empty()) start_status();
  }

  impl(const impl&) = delete;
  impl& operator=(const impl&) = delete;
  impl(impl&&) = delete;
  impl& operator=(impl&&) = delete;
  ~impl() {
    stop_status();
    if (signal_fd_ >= 0) ::close(signal_fd_);
  }

  int run() {
    info("manager_started", {}, 0, "started with " + std::to_string(pools_.size()) + " pool(s)");
    for (const auto& pool : pools_) announce(*pool, "serving");
    for (;;) {
      reap();
      const clock::time_point now = clock::now();
      tick(now);
      if (stopping_ && pools_.empty()) break;
      publish_status();
      wait_for_events(now);
    }
    stop_status();
    info("manager_stopped", {}, 0, "stopped; every worker has exited");
    return 0;
  }

 private:
  void info(std::string_view event, std::string_view pool, pid_t pid, const std::string& text,
            log_level level = log_level::info) const {
    log_.write({level, event, pool, pid, text});
  }

  void announce(const pool_state& pool, const std::string& verb) const {
    const pool_config& c = pool.config;
    std::string text = verb + " " + c.listen.to_string();
    switch (c.mode) {
      case pool_mode::static_size:
        text += " with " + std::to_string(c.workers) + " worker(s)";
        break;
      case pool_mode::dynamic:
        text += " with a dynamic pool (" + std::to_string(pool.target) + " at start, " +
                std::to_string(c.min_spare) + " to " + std::to_string(c.max_spare) +
                " spare, at most " + std::to_string(c.max_workers) + ")";
        break;
      case pool_mode::ondemand:
        text += " on demand (at most " + std::to_string(c.max_workers) +
                " worker(s), idle_timeout " + seconds_text(c.idle_timeout) + ")";
        break;
    }
    if (pool.plan->who().change) text += " as " + pool.plan->who().user_name;
    text += ": " + describe_command(pool.config);
    info("pool_configured", pool.config.name, 0, text);
  }

  std::vector<prepared_pool> prepare(std::vector<pool_config> configs) {
    validate_all(configs);
    const std::vector<std::string> environment = current_environment();
    const bool root = ::geteuid() == 0;
    std::vector<prepared_pool> result;
    for (pool_config& config : configs) {
      check_privileges(config, root, options_.allow_root);
      identity who = resolve_identity(config);
      std::vector<std::string> worker_environment = build_environment(config, environment);
      // Every worker gets its scoreboard on fd 3 (start_worker); the pool's own value loses.
      const std::string name = std::string(runtime::scoreboard_variable) + "=";
      std::erase_if(worker_environment,
                    [&name](const std::string& entry) { return entry.starts_with(name); });
      worker_environment.push_back(name + "3");
      auto plan =
          std::make_shared<const spawn_plan>(config, std::move(who), std::move(worker_environment));
      result.push_back({std::move(config), std::move(plan), nullptr});
    }
    // Sockets last, so that a mistake above opens nothing. A pool keeps the socket of a
    // running pool on the same endpoint: it is never closed, so no connection is refused.
    for (prepared_pool& p : result) {
      for (const auto& running : pools_) {
        if (running->socket->where.to_string() == p.config.listen.to_string()) {
          p.socket = running->socket;
          refresh_socket_file(p.config);
        }
      }
      if (!p.socket) p.socket = open_pool_listener(p.config);
    }
    return result;
  }

  void wait_for_events(clock::time_point now) {
    clock::time_point wake = now + std::chrono::seconds(1);
    if (!stopping_) wake = std::min(wake, last_health_check_ + health_interval());
    for (const auto& pool : pools_) {
      if (!stopping_ && pool->crashes.is_failing() && pool->next_start > now) {
        wake = std::min(wake, pool->next_start);
      }
      for (const worker& w : pool->workers) {
        if (!w.survived && !w.stopping) wake = std::min(wake, w.started + pool->config.min_uptime);
        if (w.stopping && !w.killed) wake = std::min(wake, w.kill_at);
      }
    }
    const auto timeout =
        std::chrono::ceil<milliseconds>(std::max(wake - now, clock::duration::zero()));
    // An ondemand pool without a worker: its socket wakes the manager when a connection waits.
    std::vector<pollfd> events{{signal_fd_, POLLIN, 0}};
    for (const auto& pool : pools_) {
      if (!stopping_ && waits_for_connection(*pool))
        events.push_back({pool->socket->fd, POLLIN, 0});
    }
    ::poll(events.data(), events.size(), static_cast<int>(timeout.count()));
    signalfd_siginfo signal{};
    while (::read(signal_fd_, &signal, sizeof(signal)) == static_cast<ssize_t>(sizeof(signal))) {
      on_signal(static_cast<int>(signal.ssi_signo));
    }
  }

  void on_signal(int signal) {
    switch (signal) {
      case SIGCHLD: break;  // reap() runs at the top of every turn
      case SIGHUP:
        if (!stopping_) reload();
        break;
      case SIGTERM:
      case SIGINT:
      case SIGQUIT: {
        const char* name = signal == SIGTERM ? "SIGTERM" : signal == SIGINT ? "SIGINT" : "SIGQUIT";
        if (stopping_) {
          info("stop_forced", {}, 0, std::string(name) + " again: killing every worker now",
               log_level::warning);
          kill_everything();
          break;
        }
        begin_stop(signal == SIGTERM, name);
        break;
      }
      default: break;
    }
  }

  void begin_stop(bool graceful, const char* signal_name) {
    stopping_ = true;
    info("stopping", {}, 0,
         std::string(signal_name) + ": " +
             (graceful ? "graceful stop; workers finish their requests"
                       : "fast stop; workers get " + seconds_text(options_.fast_stop_grace)));
    const clock::time_point now = clock::now();
    for (const auto& pool : pools_) {
      const milliseconds grace =
          graceful ? pool->config.graceful_timeout : options_.fast_stop_grace;
      for (worker& w : pool->workers) {
        if (w.stopping) {
          w.kill_at = std::min(w.kill_at, now + grace);
        } else {
          terminate(*pool, w, now, grace, false, graceful ? 0 : SIGTERM);
        }
      }
    }
  }

  void kill_everything() {
    for (const auto& pool : pools_) {
      for (worker& w : pool->workers) {
        if (::kill(-w.pid, SIGKILL) != 0) ::kill(w.pid, SIGKILL);
        w.stopping = true;
        w.killed = true;
      }
    }
  }

  /// Asks a worker to stop with `signal` (the pool's stop_signal when 0), sent to its
  /// process group; SIGKILL follows after `grace`.
  void terminate(pool_state& pool, worker& w, clock::time_point now, milliseconds grace,
                 bool log_it, int signal = 0) {
    if (signal == 0) signal = pool.config.stop_signal;
    if (::kill(-w.pid, signal) != 0) ::kill(w.pid, signal);
    w.stopping = true;
    w.kill_at = now + grace;
    if (log_it) {
      info("worker_stopping", pool.config.name, w.pid,
           "stopping worker " + std::to_string(w.pid) + " (" + signal_name(signal) +
               "; SIGKILL after " + seconds_text(grace) + ")");
    }
  }

  /// Reaps every child that has exited. Each exit is first seen without reaping (WNOWAIT),
  /// so that the worker's process group can be killed while its pid is still held by the
  /// zombie: the group id cannot have been reused by an unrelated process.
  void reap() {
    for (;;) {
      siginfo_t info{};
      if (::waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT) != 0 || info.si_pid == 0) return;
      const pid_t pid = info.si_pid;
      pool_state* owner = nullptr;
      std::size_t index = 0;
      for (const auto& pool : pools_) {
        for (std::size_t i = 0; i < pool->workers.size(); ++i) {
          if (pool->workers[i].pid == pid) {
            owner = pool.get();
            index = i;
          }
        }
      }
      if (owner != nullptr) ::kill(-pid, SIGKILL);  // what the worker left in its group dies
      int status = 0;
      if (::waitpid(pid, &status, WNOHANG) <= 0) return;  // cannot happen; never spin
      if (owner != nullptr) on_exit(*owner, index, status, clock::now());
    }
  }

  void on_exit(pool_state& pool, std::size_t index, int status, clock::time_point now) {
    const worker w = std::move(pool.workers[index]);
    pool.workers.erase(pool.workers.begin() + static_cast<std::ptrdiff_t>(index));
    const clock::duration uptime = now - w.started;
    const std::string& name = pool.config.name;
    if (pool.on_trial == w.pid) pool.on_trial = 0;
    pool.requests_of_gone_workers += w.requests;
    if (w.stopping || stopping_) {
      info("worker_stopped", name, w.pid,
           "worker " + std::to_string(w.pid) + " stopped: " + exit_text(status) + " after " +
               seconds_text(uptime));
      return;
    }
    ++pool.restarts;
    ++pool.restarts_by_reason["crash"];
    if (w.generation != pool.generation || w.recycle) {
      info("worker_exited", name, w.pid,
           "worker " + std::to_string(w.pid) +
               (w.recycle ? " (being replaced) " : " (old configuration) ") + exit_text(status) +
               " after " + seconds_text(uptime),
           log_level::warning);
      return;
    }
    const milliseconds delay = pool.crashes.on_exit(std::chrono::ceil<milliseconds>(uptime));
    if (delay.count() == 0) {
      info("worker_exited", name, w.pid,
           "worker " + std::to_string(w.pid) + " " + exit_text(status) + " after " +
               seconds_text(uptime) + "; starting another",
           log_level::warning);
      return;
    }
    failed_start(pool, now, w.pid,
                 exit_text(status) + " within " + seconds_text(uptime) + " of starting", delay);
  }

  /// A worker that failed to start: wait `delay`, and say so at most once a second per pool.
  void failed_start(pool_state& pool, clock::time_point now, pid_t pid, const std::string& what,
                    milliseconds delay) {
    pool.next_start = now + delay;
    if (!pool.limiter.allow(now)) return;
    const unsigned times = pool.crashes.failures();
    info("worker_failed", pool.config.name, pid,
         "worker " + std::to_string(pid) + " " + what +
             (times > 1 ? ", " + std::to_string(times) + " times in a row" : "") +
             "; next start in " + seconds_text(delay),
         log_level::error);
  }

  void tick(clock::time_point now) {
    const bool health_due = !stopping_ && now - last_health_check_ >= health_interval();
    for (const auto& pool : pools_) {
      if (!stopping_ && !pool->retiring) scale(*pool, now);
      for (worker& w : pool->workers) {
        if (w.stopping && !w.killed && now >= w.kill_at) {
          if (::kill(-w.pid, SIGKILL) != 0) ::kill(w.pid, SIGKILL);
          w.killed = true;
          info("worker_killed", pool->config.name, w.pid,
               "worker " + std::to_string(w.pid) + " did not exit in time: SIGKILL",
               log_level::warning);
        }
        if (!w.survived && !w.stopping && now - w.started >= pool->config.min_uptime) {
          w.survived = true;
          if (pool->on_trial == w.pid) pool->on_trial = 0;
          if (w.generation == pool->generation && pool->crashes.is_failing()) {
            pool->crashes.on_survived();
            info("pool_recovered", pool->config.name, w.pid,
                 "worker " + std::to_string(w.pid) + " is up; starting normally again");
          }
        }
      }
      if (health_due) check_health(*pool, now);
      if (!stopping_) reconcile(*pool, now);
    }
    if (health_due) last_health_check_ = now;
    std::erase_if(pools_, [this](const std::unique_ptr<pool_state>& pool) {
      const bool done = (pool->retiring || stopping_) && pool->workers.empty();
      if (done && pool->retiring) info("pool_removed", pool->config.name, 0, "removed");
      return done;
    });
  }

  /// Brings a pool to its size. During a reload (workers of an older generation still
  /// running) at most one worker above the size runs, and an old worker is stopped only once
  /// a new one has been up min_uptime: the pool never serves with fewer than its size.
  void reconcile(pool_state& pool, clock::time_point now) {
    const unsigned target = pool.retiring ? 0 : pool.target;
    unsigned fresh = 0;
    unsigned settled = 0;
    unsigned old_active = 0;
    for (const worker& w : pool.workers) {
      if (w.stopping) continue;
      if (w.generation == pool.generation && !w.recycle) {
        ++fresh;
        if (w.survived) ++settled;
      } else {
        ++old_active;
      }
    }
    while (old_active > 0 && settled + old_active > target) {
      for (worker& w : pool.workers) {
        if (!w.stopping && (w.generation != pool.generation || w.recycle)) {
          terminate(pool, w, now, pool.config.graceful_timeout, true);
          break;
        }
      }
      --old_active;
    }
    while (fresh > target) {  // the size went down
      for (auto w = pool.workers.rbegin(); w != pool.workers.rend(); ++w) {
        if (!w->stopping && w->generation == pool.generation && !w->recycle) {
          terminate(pool, *w, now, pool.config.graceful_timeout, true);
          break;
        }
      }
      --fresh;
      settled = std::min(settled, fresh);
    }
    const unsigned surge = old_active > 0 ? 1 : 0;
    while (fresh < target && fresh + old_active < target + surge) {
      // After failed starts, one worker at a time, and only once the delay has passed.
      if (pool.crashes.is_failing() && (now < pool.next_start || pool.on_trial != 0)) break;
      if (!start_worker(pool, now)) break;
      ++fresh;
    }
  }

  /// Once a second, or four times a request_timeout or slowlog_timeout when one is shorter,
  /// so that a stuck worker is killed soon after its limit (at least every 100 ms).
  [[nodiscard]] clock::duration health_interval() const {
    clock::duration interval = std::chrono::seconds(1);
    for (const auto& pool : pools_) {
      // Sized on busy and idle workers: notice a change within a quarter second.
      if (pool->config.mode != pool_mode::static_size) interval = milliseconds(250);
      for (const milliseconds limit :
           {pool->config.request_timeout, pool->config.slowlog_timeout}) {
        if (limit.count() > 0) interval = std::min<clock::duration>(interval, limit / 4);
      }
    }
    return std::max<clock::duration>(interval, milliseconds(100));
  }

  /// Reads every worker's scoreboard and memory and acts on judge()'s verdict (health.hpp):
  /// recycle = replaced gracefully as in a reload (a new worker first, SIGTERM once it is up);
  /// kill = SIGTERM to its process group now, SIGKILL after the fast-stop grace. Slow
  /// handlers are logged once per run.
  void check_health(pool_state& pool, clock::time_point now) {
    const health_limits limits = limits_of(pool.config);
    const std::string& name = pool.config.name;
    for (worker& w : pool.workers) {
      if (w.killed) continue;
      worker_observation seen;
      seen.now = runtime::monotonic_now();
      if (w.board) {
        seen.board = w.board->read(w.board_writer, seen.now);
        // A wrapper that forks the app (sh -c 'app; ...') leaves the writing to a process of
        // the worker's session (setsid at spawn): that is still the worker.
        if (const auto* error = std::get_if<std::string>(&seen.board);
            error != nullptr && w.board_writer == w.pid) {
          const pid_t writer = writer_named(*error);
          if (writer > 0 && session_of(writer) == w.pid) {
            w.board_writer = writer;
            seen.board = w.board->read(writer, seen.now);
          }
        }
      } else {
        seen.board = runtime::scoreboard_snapshot{};
      }
      if (limits.max_rss > 0) seen.rss_bytes = resident_bytes(w.pid);
      const worker_verdict verdict = judge(limits, seen);
      if (const auto* board = std::get_if<runtime::scoreboard_snapshot>(&seen.board);
          board != nullptr && board->attached) {
        w.attached = true;
        w.requests = std::max(w.requests, verdict.requests_completed);
      }
      w.activity = verdict.activity;
      log_slow_handlers(pool, w, verdict);
      if (!w.attached && !pool.warned_unattached && !w.stopping &&
          (limits.max_requests > 0 || limits.request_timeout.count() > 0) &&
          now - w.started >= attach_patience) {
        pool.warned_unattached = true;
        info("scoreboard_not_attached", name, w.pid,
             "worker " + std::to_string(w.pid) +
                 " does not report to the scoreboard (not an fcgikit app?): "
                 "max_requests/request_timeout cannot apply",
             log_level::warning);
      }
      if (verdict.act == worker_verdict::action::kill) {
        if (w.stopping) {  // already leaving (reload, recycle): it is stuck, so do not wait
          w.kill_at = std::min(w.kill_at, now + options_.fast_stop_grace);
          continue;
        }
        count_replacement(pool, verdict.why);
        info("worker_timed_out", name, w.pid,
             "killing worker " + std::to_string(w.pid) + ": " + verdict.reason +
                 " (SIGTERM; SIGKILL after " + seconds_text(options_.fast_stop_grace) + ")",
             log_level::error);
        terminate(pool, w, now, options_.fast_stop_grace, false, SIGTERM);
        continue;
      }
      if (verdict.act != worker_verdict::action::recycle || w.stopping || w.recycle) continue;
      // A worker with a page it cannot be trusted with is replaced at once; the limits wait
      // until it has been up min_uptime, as a reload does.
      if (verdict.why != worker_verdict::cause::untrusted && !w.survived) continue;
      w.recycle = true;
      count_replacement(pool, verdict.why);
      const char* event = verdict.why == worker_verdict::cause::untrusted ? "scoreboard_untrusted"
                          : verdict.why == worker_verdict::cause::max_requests
                              ? "worker_over_max_requests"
                              : "worker_over_max_rss";
      info(event, name, w.pid, "replacing worker " + std::to_string(w.pid) + ": " + verdict.reason,
           log_level::warning);
    }
  }

  /// An ondemand pool with no worker serving: the manager polls its socket.
  [[nodiscard]] static bool waits_for_connection(const pool_state& pool) {
    return pool.config.mode == pool_mode::ondemand && !pool.retiring && pool.target == 0 &&
           std::none_of(pool.workers.begin(), pool.workers.end(),
                        [](const worker& w) { return !w.stopping; });
  }

  /// dynamic and ondemand pools: moves the pool's target from its busy and idle workers
  /// (scoreboard), or from its listen queue for workers that do not report (a connection
  /// waiting means every worker is busy). Starts at most one worker per 250 ms (the first
  /// worker of an ondemand pool at once); stops idle workers one at a time (dynamic: one a
  /// second), the one idle the longest first.
  void scale(pool_state& pool, clock::time_point now) {
    const pool_config& c = pool.config;
    if (c.mode == pool_mode::static_size) return;
    std::uint32_t queue = listen_queue_length(pool.socket->fd).value_or(0);
    if (queue == 0 && waits_for_connection(pool)) {  // also without sock_diag
      pollfd readable{pool.socket->fd, POLLIN, 0};
      if (::poll(&readable, 1, 0) == 1) queue = 1;
    }
    unsigned idle = 0;
    worker* idlest = nullptr;
    for (worker& w : pool.workers) {
      if (w.stopping || w.recycle || w.generation != pool.generation) continue;
      const bool is_idle = w.activity == worker_activity::idle ||
                           (w.activity == worker_activity::unknown && queue == 0);
      if (!is_idle) {
        w.idle_since = now;
        continue;
      }
      ++idle;
      if (idlest == nullptr || w.idle_since < idlest->idle_since) idlest = &w;
    }
    if (queue > 0) idle = 0;  // connections wait: nobody is free to take them
    const std::string& name = c.name;
    if (c.mode == pool_mode::dynamic) {
      if (idle < c.min_spare && pool.target < c.max_workers &&
          now - pool.last_scale >= milliseconds(250)) {
        ++pool.target;
        pool.last_scale = now;
        info("pool_growing", name, 0,
             std::to_string(idle) + " idle worker(s) (min_spare " + std::to_string(c.min_spare) +
                 ", " + std::to_string(queue) + " connection(s) waiting): growing to " +
                 std::to_string(pool.target));
      } else if (idle > c.max_spare && idlest != nullptr && pool.target > 0 &&
                 now - pool.last_scale >= std::chrono::seconds(1)) {
        --pool.target;
        pool.last_scale = now;
        info("pool_shrinking", name, idlest->pid,
             std::to_string(idle) + " idle worker(s) (max_spare " + std::to_string(c.max_spare) +
                 "): stopping worker " + std::to_string(idlest->pid));
        terminate(pool, *idlest, now, c.graceful_timeout, false);
      }
      return;
    }
    // ondemand
    if (queue > 0 && idle == 0 && pool.target < c.max_workers &&
        (pool.target == 0 || now - pool.last_scale >= milliseconds(250))) {
      ++pool.target;
      pool.last_scale = now;
      info("pool_growing", name, 0,
           std::to_string(queue) + " connection(s) waiting: growing to " +
               std::to_string(pool.target));
      return;
    }
    if (idlest != nullptr && queue == 0 && pool.target > 0 &&
        now - idlest->idle_since >= c.idle_timeout) {
      --pool.target;
      info("pool_shrinking", name, idlest->pid,
           "worker " + std::to_string(idlest->pid) + " idle for " +
               seconds_text(now - idlest->idle_since) + " (idle_timeout " +
               seconds_text(c.idle_timeout) + "): stopping it");
      terminate(pool, *idlest, now, c.graceful_timeout, false);
    }
  }

  static void count_replacement(pool_state& pool, worker_verdict::cause why) {
    ++pool.restarts;
    ++pool.restarts_by_reason[std::string(to_string(why))];
  }

  /// One line per handler run past slowlog_timeout, however many checks see it.
  void log_slow_handlers(pool_state& pool, worker& w, const worker_verdict& verdict) {
    std::vector<std::pair<unsigned, std::chrono::nanoseconds>> still;
    for (const slow_handler& slow : verdict.slow) {
      const std::pair<unsigned, std::chrono::nanoseconds> key{slow.thread, slow.started};
      still.push_back(key);
      if (std::find(w.slow_logged.begin(), w.slow_logged.end(), key) != w.slow_logged.end()) {
        continue;
      }
      ++pool.slow_requests;
      info("request_slow", pool.config.name, w.pid,
           "worker " + std::to_string(w.pid) + " thread " + std::to_string(slow.thread) +
               " has run '" + slow.what + "' for " + seconds_text(slow.running) +
               " (slowlog_timeout " + seconds_text(pool.config.slowlog_timeout) + ")",
           log_level::warning);
    }
    w.slow_logged = std::move(still);
  }

  bool start_worker(pool_state& pool, clock::time_point now) {
    std::optional<runtime::scoreboard> board;
    try {
      board = runtime::scoreboard::create();
    } catch (const std::system_error& e) {
      ++pool.restarts;
      const milliseconds delay = pool.crashes.on_exit(milliseconds(0));
      failed_start(pool, now, 0, std::string("did not start: no scoreboard: ") + e.what(), delay);
      return false;
    }
    const spawn_result started =
        spawn_worker(*pool.plan, pool.socket->fd, options_.worker_log_fd, board->fd());
    if (!started.ok()) {
      ++pool.restarts;
      const milliseconds delay = pool.crashes.on_exit(milliseconds(0));
      failed_start(pool, now, started.pid, "did not start: " + started.message, delay);
      return false;
    }
    worker w;
    w.pid = started.pid;
    w.generation = pool.generation;
    w.started = now;
    w.socket = pool.socket;
    w.board = std::move(board);
    w.board_writer = w.pid;
    w.idle_since = now;
    if (pool.crashes.is_failing()) {
      pool.on_trial = w.pid;  // logged when it fails or when it has stayed up
    } else {
      info("worker_started", pool.config.name, w.pid,
           "worker " + std::to_string(w.pid) + " started");
    }
    pool.workers.push_back(std::move(w));
    return true;
  }

  void reload() {
    info("reloading", {}, 0,
         options_.config_file.empty() ? "SIGHUP: replacing every worker"
                                      : "SIGHUP: re-reading " + options_.config_file);
    std::vector<prepared_pool> prepared;
    try {
      std::vector<pool_config> configs = options_.command_line_pools;
      if (!options_.config_file.empty()) {
        std::vector<pool_config> file = load_config_file(options_.config_file);
        configs.insert(configs.end(), file.begin(), file.end());
      }
      prepared = prepare(std::move(configs));
    } catch (const std::exception& e) {
      info("reload_failed", {}, 0,
           std::string("reload refused, the running configuration stays: ") + e.what(),
           log_level::error);
      return;
    }
    ++reloads_;
    for (const auto& pool : pools_) {
      const bool kept = std::any_of(prepared.begin(), prepared.end(), [&](const prepared_pool& p) {
        return p.config.name == pool->config.name;
      });
      if (!kept && !pool->retiring) {
        pool->retiring = true;
        info("pool_retiring", pool->config.name, 0, "no longer configured; stopping its workers");
      }
    }
    const clock::time_point now = clock::now();
    for (prepared_pool& p : prepared) {
      auto found = std::find_if(pools_.begin(), pools_.end(), [&](const auto& pool) {
        return pool->config.name == p.config.name;
      });
      if (found == pools_.end()) {
        pools_.push_back(std::make_unique<pool_state>(std::move(p)));
        announce(*pools_.back(), "added: serving");
        continue;
      }
      pool_state& pool = **found;
      const bool moved = pool.socket != p.socket;
      pool.config = std::move(p.config);
      pool.plan = std::move(p.plan);
      pool.socket = std::move(p.socket);
      pool.crashes = crash_tracker(pool.config.min_uptime, pool.config.backoff_initial,
                                   pool.config.backoff_max);
      pool.next_start = now;
      pool.retiring = false;
      pool.target = pool_state::initial_size(pool.config);
      ++pool.generation;
      announce(pool, moved ? "reloading onto a new socket: serving" : "reloading: serving");
    }
  }

  /// After the signals are blocked, so the status thread inherits the mask.
  void start_status() {
    pool_config placeholder;
    placeholder.name = "status";
    try {
      placeholder.listen = runtime::parse_endpoint(options_.status_listen);
    } catch (const std::invalid_argument& e) {
      throw config_error(std::string("--status-listen: ") + e.what());
    }
    auto socket = open_pool_listener(placeholder);
    status_socket_ = socket->where;
    status_inode_ = socket->inode;
    status_device_ = socket->device;
    const int fd = std::exchange(socket->fd, -1);  // the server owns it now
    socket->inode = 0;                             // and stop_status() removes the file
    status_ = std::make_unique<status_server>(fd, log_);
    publish_status();
    info("status_listening", {}, 0, "status on " + status_socket_.to_string());
  }

  void stop_status() {
    if (!status_) return;
    status_.reset();
    struct stat info {};
    if (status_socket_.type == runtime::endpoint::kind::unix_socket && status_inode_ != 0 &&
        ::lstat(status_socket_.path.c_str(), &info) == 0 && info.st_ino == status_inode_ &&
        info.st_dev == status_device_) {
      ::unlink(status_socket_.path.c_str());
    }
  }

  void publish_status() {
    if (!status_) return;
    manager_status snapshot;
    snapshot.pid = ::getpid();
    snapshot.started = started_;
    snapshot.reloads = reloads_;
    snapshot.stopping = stopping_;
    for (const auto& pool : pools_) {
      pool_status p;
      p.name = pool->config.name;
      p.listen = pool->config.listen.to_string();
      p.configured = pool->retiring ? 0 : pool->target;
      p.mode = std::string(to_string(pool->config.mode));
      p.restarts = pool->restarts;
      p.restarts_by_reason = pool->restarts_by_reason;
      p.slow_requests = pool->slow_requests;
      p.requests = pool->requests_of_gone_workers;
      p.failed_starts_in_a_row = pool->crashes.failures();
      p.generation = pool->generation;
      for (const worker& w : pool->workers) {
        const std::string state = w.stopping    ? "stopping"
                                  : !w.survived ? "starting"
                                                : std::string(to_string(w.activity));
        p.workers.push_back({w.pid, state, w.started, w.generation, w.requests});
        p.requests += w.requests;
      }
      snapshot.pools.push_back(std::move(p));
    }
    status_->publish(std::move(snapshot));
  }

  supervisor_options options_;
  const logger& log_;
  clock::time_point started_ = clock::now();
  clock::time_point last_health_check_{};
  std::uint64_t reloads_ = 0;
  std::unique_ptr<status_server> status_;
  runtime::endpoint status_socket_;
  ino_t status_inode_ = 0;
  dev_t status_device_ = 0;
  int signal_fd_ = -1;
  bool stopping_ = false;
  std::vector<std::unique_ptr<pool_state>> pools_;
};

supervisor::supervisor(supervisor_options options, const logger& log)
    : impl_(std::make_unique<impl>(std::move(options), log)) {}

supervisor::~supervisor() = default;

int supervisor::run() { return impl_->run(); }

}  // namespace fcgi::pm
