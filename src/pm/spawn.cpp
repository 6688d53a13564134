#include <fcgi/pm/spawn.hpp>

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <charconv>
#include <csignal>
#include <cstring>
#include <utility>

extern char** environ;  // NOLINT(readability-redundant-declaration)

namespace fcgi::pm {

/// The steps the child takes, in order; the failing one is reported to the manager.
enum class child_step : int {
  listen_fd,
  log_fd,
  scoreboard_fd,
  close_fds,
  session,
  parent_death,
  parent_gone,
  rlimit_nofile,
  rlimit_core,
  chroot,
  chdir,
  setgroups,
  setgid,
  setuid,
  still_root,
  signals,
  exec,
};

struct spawn_access {
  static void fail(int pipe_fd, child_step step) noexcept;
  [[noreturn]] static void run_child(const spawn_plan& plan, int listen_fd, int log_fd,
                                     int scoreboard_fd, int pipe_fd, pid_t manager) noexcept;
  static std::string describe(const spawn_plan& plan, child_step step, int error);
};

namespace {

std::optional<std::uint64_t> number(const std::string& text) {
  std::uint64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::vector<char> lookup_buffer() {
  const long size = ::sysconf(_SC_GETPW_R_SIZE_MAX);
  return std::vector<char>(size > 0 ? static_cast<std::size_t>(size) * 4 : 65536);
}

}  // namespace

uid_t resolve_user_id(const std::string& name, const std::string& pool_name) {
  if (const auto id = number(name)) return static_cast<uid_t>(*id);
  passwd entry{};
  passwd* found = nullptr;
  std::vector<char> buffer = lookup_buffer();
  if (::getpwnam_r(name.c_str(), &entry, buffer.data(), buffer.size(), &found) != 0 ||
      found == nullptr) {
    throw config_error("pool " + pool_name + ": no user named '" + name +
                       "'; create it (adduser --system " + name + ") or name another");
  }
  return entry.pw_uid;
}

gid_t resolve_group_id(const std::string& name, const std::string& pool_name) {
  if (const auto id = number(name)) return static_cast<gid_t>(*id);
  group entry{};
  group* found = nullptr;
  std::vector<char> buffer = lookup_buffer();
  if (::getgrnam_r(name.c_str(), &entry, buffer.data(), buffer.size(), &found) != 0 ||
      found == nullptr) {
    throw config_error("pool " + pool_name + ": no group named '" + name +
                       "'; create it (addgroup --system " + name + ") or name another");
  }
  return entry.gr_gid;
}

identity resolve_identity(const pool_config& pool) {
  identity who;
  if (!pool.user) {
    if (pool.group) {
      throw config_error("pool " + pool.name + ": group is set without user; set user too");
    }
    return who;
  }
  who.change = true;
  std::vector<char> buffer = lookup_buffer();
  passwd entry{};
  passwd* found = nullptr;
  const auto numeric = number(*pool.user);
  if (numeric) {
    ::getpwuid_r(static_cast<uid_t>(*numeric), &entry, buffer.data(), buffer.size(), &found);
  } else {
    ::getpwnam_r(pool.user->c_str(), &entry, buffer.data(), buffer.size(), &found);
  }
  if (found == nullptr && !numeric) {
    throw config_error("pool " + pool.name + ": no user named '" + *pool.user +
                       "'; create it (adduser --system " + *pool.user + ") or name another");
  }
  who.uid = found != nullptr ? entry.pw_uid : static_cast<uid_t>(*numeric);
  who.user_name = found != nullptr ? entry.pw_name : *pool.user;
  if (pool.group) {
    who.gid = resolve_group_id(*pool.group, pool.name);
  } else if (found != nullptr) {
    who.gid = entry.pw_gid;
  } else {
    throw config_error("pool " + pool.name + ": uid " + *pool.user +
                       " has no entry in the user database; set group too");
  }
  who.groups.push_back(who.gid);
  if (found != nullptr) {
    int count = 64;
    std::vector<gid_t> groups(static_cast<std::size_t>(count));
    if (::getgrouplist(entry.pw_name, who.gid, groups.data(), &count) < 0) {
      groups.resize(static_cast<std::size_t>(count));
      ::getgrouplist(entry.pw_name, who.gid, groups.data(), &count);
    }
    groups.resize(static_cast<std::size_t>(count));
    who.groups = std::move(groups);
  }
  return who;
}

std::vector<std::string> build_environment(const pool_config& pool,
                                           const std::vector<std::string>& manager_environment) {
  std::vector<std::string> result;
  auto set = [&result](const std::string& name, const std::string& value) {
    for (std::string& entry : result) {
      if (entry.size() > name.size() && entry.compare(0, name.size(), name) == 0 &&
          entry[name.size()] == '=') {
        entry.resize(name.size() + 1);
        entry += value;
        return;
      }
    }
    result.push_back(name + "=" + value);
  };
  for (const std::string& name : pool.env_allow) {
    for (const std::string& entry : manager_environment) {
      if (entry.size() > name.size() && entry.compare(0, name.size(), name) == 0 &&
          entry[name.size()] == '=') {
        set(name, entry.substr(name.size() + 1));
        break;
      }
    }
  }
  for (const auto& [name, value] : pool.env) set(name, value);
  if (!pool.allowed_clients.empty()) {
    std::string list;
    for (const std::string& client : pool.allowed_clients) {
      if (!list.empty()) list += ",";
      list += client;
    }
    set("FCGI_WEB_SERVER_ADDRS", list);
  }
  return result;
}

std::vector<std::string> current_environment() {
  std::vector<std::string> result;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    result.emplace_back(*entry);
  }
  return result;
}

std::string resolve_program(const pool_config& pool) {
  const std::string& program = pool.command.front();
  if (program.find('/') != std::string::npos || !pool.chroot.empty()) return program;
  const char* path = std::getenv("PATH");
  std::string_view directories = path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin";
  while (!directories.empty()) {
    const auto colon = directories.find(':');
    std::string candidate(directories.substr(0, colon));
    directories =
        colon == std::string_view::npos ? std::string_view{} : directories.substr(colon + 1);
    if (candidate.empty()) candidate = ".";
    candidate += "/" + program;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return program;
}

spawn_plan::spawn_plan(const pool_config& pool, identity who, std::vector<std::string> environment)
    : program_(resolve_program(pool)),
      arguments_(pool.command),
      environment_(std::move(environment)),
      who_(std::move(who)),
      chroot_(pool.chroot),
      chdir_(pool.chdir.empty() && !pool.chroot.empty() ? "/" : pool.chdir),
      has_umask_(pool.umask.has_value()),
      umask_(pool.umask.value_or(0)),
      has_nofile_(pool.rlimit_nofile.has_value()),
      nofile_(pool.rlimit_nofile.value_or(0)),
      has_core_(pool.rlimit_core.has_value()),
      core_(pool.rlimit_core.value_or(0)) {
  for (std::string& argument : arguments_) argv_.push_back(argument.data());
  argv_.push_back(nullptr);
  for (std::string& entry : environment_) envp_.push_back(entry.data());
  envp_.push_back(nullptr);
}

void spawn_access::fail(int pipe_fd, child_step step) noexcept {
  const std::array<int, 2> report{static_cast<int>(step), errno};
  // A short write cannot happen for 8 bytes on a pipe; nothing more can be done in the child.
  [[maybe_unused]] const ssize_t written = ::write(pipe_fd, report.data(), sizeof(report));
  ::_exit(127);
}

// Only async-signal-safe calls from here to execve: the manager may have other threads, whose
// locks (malloc's, stdio's) were copied held.
void spawn_access::run_child(const spawn_plan& plan, int listen_fd, int log_fd, int scoreboard_fd,
                             int pipe_fd, pid_t manager) noexcept {
  // fds: 0 = the listening socket, 1 and 2 = the log, 3 = the scoreboard (when given), then
  // the report pipe (close-on-exec), nothing else.
  if (listen_fd == STDIN_FILENO ? ::fcntl(STDIN_FILENO, F_SETFD, 0) != 0
                                : ::dup2(listen_fd, STDIN_FILENO) < 0) {
    fail(pipe_fd, child_step::listen_fd);
  }
  if (::dup2(log_fd, STDOUT_FILENO) < 0) fail(pipe_fd, child_step::log_fd);
  if (log_fd == STDERR_FILENO ? ::fcntl(STDERR_FILENO, F_SETFD, 0) != 0
                              : ::dup2(log_fd, STDERR_FILENO) < 0) {
    fail(pipe_fd, child_step::log_fd);
  }
  // fd 3 = the scoreboard when there is one (kept across exec), then the report pipe. The
  // pipe first moves above every fd a move can land on, so the scoreboard cannot overwrite it.
  constexpr int high_fd = 16;
  const int report_fd = scoreboard_fd >= 0 ? 4 : 3;
  if (const int moved = ::fcntl(pipe_fd, F_DUPFD_CLOEXEC, high_fd); moved >= 0) {
    pipe_fd = moved;
  } else {
    fail(pipe_fd, child_step::close_fds);
  }
  if (scoreboard_fd >= 0) {
    const int moved = ::fcntl(scoreboard_fd, F_DUPFD_CLOEXEC, high_fd);
    if (moved < 0 || ::dup2(moved, 3) < 0) fail(pipe_fd, child_step::scoreboard_fd);
  }
  if (::dup3(pipe_fd, report_fd, O_CLOEXEC) < 0) fail(pipe_fd, child_step::close_fds);
  pipe_fd = report_fd;
  if (::close_range(static_cast<unsigned>(report_fd) + 1, ~0U, 0) != 0) {
    struct rlimit limit {};
    ::getrlimit(RLIMIT_NOFILE, &limit);
    for (rlim_t fd = static_cast<rlim_t>(report_fd) + 1; fd < limit.rlim_cur; ++fd) {
      ::close(static_cast<int>(fd));
    }
  }
  // Its own session and process group, so that stopping a worker stops what it started.
  if (::setsid() < 0) fail(pipe_fd, child_step::session);
  // Die with the manager (HOSTILE E-61), and do not start at all if it died already.
  if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) fail(pipe_fd, child_step::parent_death);
  if (::getppid() != manager) {
    errno = ESRCH;
    fail(pipe_fd, child_step::parent_gone);
  }
  if (plan.has_nofile_) {
    const struct rlimit limit { plan.nofile_, plan.nofile_ };
    if (::setrlimit(RLIMIT_NOFILE, &limit) != 0) fail(pipe_fd, child_step::rlimit_nofile);
  }
  if (plan.has_core_) {
    const struct rlimit limit { plan.core_, plan.core_ };
    if (::setrlimit(RLIMIT_CORE, &limit) != 0) fail(pipe_fd, child_step::rlimit_core);
  }
  if (plan.has_umask_) ::umask(plan.umask_);
  if (!plan.chroot_.empty() && ::chroot(plan.chroot_.c_str()) != 0) {
    fail(pipe_fd, child_step::chroot);
  }
  if (!plan.chdir_.empty() && ::chdir(plan.chdir_.c_str()) != 0) fail(pipe_fd, child_step::chdir);
  if (plan.who_.change) {
    if (::setgroups(plan.who_.groups.size(), plan.who_.groups.data()) != 0) {
      fail(pipe_fd, child_step::setgroups);
    }
    if (::setgid(plan.who_.gid) != 0) fail(pipe_fd, child_step::setgid);
    if (::setuid(plan.who_.uid) != 0) fail(pipe_fd, child_step::setuid);
    if (plan.who_.uid != 0 && ::setuid(0) == 0) {
      errno = EPERM;
      fail(pipe_fd, child_step::still_root);
    }
  }
  // The manager blocks the signals it reads with signalfd and ignores SIGPIPE; the app starts
  // with the defaults a process expects.
  struct sigaction defaults {};
  defaults.sa_handler = SIG_DFL;
  for (int signal = 1; signal < NSIG; ++signal) ::sigaction(signal, &defaults, nullptr);
  sigset_t none;
  sigemptyset(&none);
  if (::sigprocmask(SIG_SETMASK, &none, nullptr) != 0) fail(pipe_fd, child_step::signals);
  ::execve(plan.program_.c_str(), plan.argv_.data(), plan.envp_.data());
  fail(pipe_fd, child_step::exec);
  ::_exit(127);
}

std::string spawn_access::describe(const spawn_plan& plan, child_step step, int error) {
  std::string what;
  switch (step) {
    case child_step::listen_fd: what = "cannot put the listening socket on fd 0"; break;
    case child_step::log_fd: what = "cannot put the log on fds 1 and 2"; break;
    case child_step::scoreboard_fd: what = "cannot put the scoreboard on fd 3"; break;
    case child_step::close_fds: what = "cannot set up the worker's fds"; break;
    case child_step::session: what = "cannot start a session (setsid)"; break;
    case child_step::parent_death: what = "cannot set PR_SET_PDEATHSIG"; break;
    case child_step::parent_gone: what = "the manager died before the worker started"; break;
    case child_step::rlimit_nofile:
      what = "cannot set rlimit_nofile to " + std::to_string(plan.nofile_);
      break;
    case child_step::rlimit_core:
      what = "cannot set rlimit_core to " + std::to_string(plan.core_);
      break;
    case child_step::chroot: what = "cannot chroot to " + plan.chroot_; break;
    case child_step::chdir: what = "cannot chdir to " + plan.chdir_; break;
    case child_step::setgroups: what = "cannot set the supplementary groups"; break;
    case child_step::setgid: what = "cannot setgid to " + std::to_string(plan.who_.gid); break;
    case child_step::setuid:
      what = "cannot setuid to " + plan.who_.user_name + " (" + std::to_string(plan.who_.uid) + ")";
      break;
    case child_step::still_root: what = "setuid(0) still succeeds after dropping root"; break;
    case child_step::signals: what = "cannot reset the signal mask"; break;
    case child_step::exec: what = "cannot exec " + plan.program_; break;
  }
  return what + ": " + std::strerror(error);
}

spawn_result spawn_worker(const spawn_plan& plan, int listen_fd, int log_fd, int scoreboard_fd) {
  spawn_result result;
  std::array<int, 2> report{-1, -1};
  if (::pipe2(report.data(), O_CLOEXEC) != 0) {
    result.error = errno;
    result.message = std::string("cannot create a pipe: ") + std::strerror(result.error);
    return result;
  }
  const pid_t manager = ::getpid();
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::close(report[0]);
    spawn_access::run_child(plan, listen_fd, log_fd, scoreboard_fd, report[1], manager);
  }
  ::close(report[1]);
  if (pid < 0) {
    result.error = errno;
    result.message = std::string("cannot fork: ") + std::strerror(result.error);
    ::close(report[0]);
    return result;
  }
  result.pid = pid;
  // EOF: execve succeeded (the pipe closed on exec). Eight bytes: the step that failed.
  std::array<int, 2> failure{0, 0};
  ssize_t got = 0;
  do {
    got = ::read(report[0], failure.data(), sizeof(failure));
  } while (got < 0 && errno == EINTR);
  ::close(report[0]);
  if (got == static_cast<ssize_t>(sizeof(failure))) {
    result.error = failure[1] != 0 ? failure[1] : EIO;
    result.message = spawn_access::describe(plan, static_cast<child_step>(failure[0]), failure[1]);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
  }
  return result;
}

}  // namespace fcgi::pm
