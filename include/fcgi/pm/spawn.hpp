// Starting one worker process: fork, then in the child only async-signal-safe calls (the
// manager may have threads), then execve. Everything the child needs — argv and envp arrays,
// the resolved uid, gid and groups — is computed before fork, into a spawn_plan.
//
// In the child, in this order: the listening socket onto fd 0 (the FastCGI convention), the
// log onto fds 1 and 2, the worker's scoreboard onto fd 3, every other fd closed; a session and
// process group of its own; PR_SET_PDEATHSIG(SIGKILL) and a check that the manager is still its
// parent; rlimits, umask, chroot, chdir; setgroups, setgid, setuid (and a check that setuid(0) then
// fails); signal mask and dispositions reset; execve with an environment built from scratch. A
// failing step is sent back to the manager over a close-on-exec pipe, so the log says what failed
// and why.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include <fcgi/pm/config.hpp>

namespace fcgi::pm {

/// Who a pool's workers run as. `change` is false when no user was configured: the workers
/// keep the manager's identity.
struct identity {
  bool change = false;
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;  ///< supplementary groups (getgrouplist of the user)
  std::string user_name;
};

/// Looks up pool.user and pool.group (names or numbers) in the user database. Throws
/// config_error naming the pool and the unknown name.
identity resolve_identity(const pool_config& pool);

/// Looks up a user or group name (or number) for socket_owner / socket_group.
uid_t resolve_user_id(const std::string& name, const std::string& pool_name);
gid_t resolve_group_id(const std::string& name, const std::string& pool_name);

/// The environment a worker gets, as "NAME=VALUE" strings: the env_allow names present in
/// `manager_environment` (itself "NAME=VALUE" strings), then pool.env (which wins over an
/// allowed name), then FCGI_WEB_SERVER_ADDRS from allowed_clients. Nothing else: no
/// LISTEN_FDS, no secrets the manager happens to hold.
std::vector<std::string> build_environment(const pool_config& pool,
                                           const std::vector<std::string>& manager_environment);

/// The manager's environment as "NAME=VALUE" strings (from `environ`).
std::vector<std::string> current_environment();

/// The program execve runs: command[0] as given when it contains a '/', else found in the
/// manager's PATH (when no chroot); unchanged when not found (exec then fails with ENOENT).
std::string resolve_program(const pool_config& pool);

/// What one fork needs, computed in the manager. Immutable once built; shared by every
/// spawn of one pool generation.
class spawn_plan {
 public:
  spawn_plan(const pool_config& pool, identity who, std::vector<std::string> environment);
  spawn_plan(const spawn_plan&) = delete;
  spawn_plan& operator=(const spawn_plan&) = delete;
  spawn_plan(spawn_plan&&) = delete;
  spawn_plan& operator=(spawn_plan&&) = delete;
  ~spawn_plan() = default;

  [[nodiscard]] const std::string& program() const noexcept { return program_; }
  [[nodiscard]] const std::vector<std::string>& environment() const noexcept {
    return environment_;
  }
  [[nodiscard]] const identity& who() const noexcept { return who_; }

 private:
  friend struct spawn_access;
  std::string program_;
  std::vector<std::string> arguments_;
  std::vector<std::string> environment_;
  std::vector<char*> argv_;
  std::vector<char*> envp_;
  identity who_;
  std::string chroot_;
  std::string chdir_;
  bool has_umask_ = false;
  mode_t umask_ = 0;
  bool has_nofile_ = false;
  std::uint64_t nofile_ = 0;
  bool has_core_ = false;
  std::uint64_t core_ = 0;
};

struct spawn_result {
  /// The child's pid, or -1 when fork itself failed. When `error` is set, the child has
  /// already exited and been reaped.
  pid_t pid = -1;
  int error = 0;        ///< errno of the failing step, 0 on success
  std::string message;  ///< "cannot exec ./app: No such file or directory"
  [[nodiscard]] bool ok() const noexcept { return error == 0 && pid > 0; }
};

/// Forks and execs one worker with `listen_fd` as its fd 0, `log_fd` as its fds 1 and 2 and,
/// when it is not -1, `scoreboard_fd` as its fd 3 (the plan's environment then names it:
/// FCGI_PM_SCOREBOARD=3).
/// Returns once the child has exec'd (or failed to): the manager blocks for the few
/// microseconds the child needs. The manager must have fds 0, 1, 2 open (fcgi-pm opens
/// /dev/null on any that is closed) so the pipe and the listener are at 3 or above.
spawn_result spawn_worker(const spawn_plan& plan, int listen_fd, int log_fd,
                          int scoreboard_fd = -1);

}  // namespace fcgi::pm
