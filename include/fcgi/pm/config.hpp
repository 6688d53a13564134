// What fcgi-pm runs: pools of identical worker processes sharing one listening socket, read
// from a TOML file (`[pool.NAME]` tables) or built from a command line.
//
// Everything here is pure: parsing and validation touch no socket, start no process and look
// up no user. Errors are thrown as pm::config_error whose message names the file, the line,
// the key and the fix, ready to print (fcgi-pm exits 2 with it).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fcgi/runtime/endpoint.hpp>

namespace fcgi::pm {

/// A configuration mistake. what() is the whole message for people:
/// "app.toml:7: pool.app.workers: must be an integer from 1 to 1024, got 0; e.g. workers = 4".
class config_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// How a pool is sized, like php-fpm's `pm`.
enum class pool_mode : std::uint8_t {
  static_size,  ///< "static": always `workers`
  dynamic,      ///< between min_spare and max_spare idle workers, at most max_workers
  ondemand,     ///< no worker until a connection waits; idle ones stop after idle_timeout
};
std::string_view to_string(pool_mode m) noexcept;

struct pool_config {
  std::string name;
  std::string listen_text;           ///< as written, for logs
  runtime::endpoint listen;          ///< parsed listen_text
  std::vector<std::string> command;  ///< argv; command[0] is the program
  unsigned workers = 1;              ///< static pool size, 1..1024
  pool_mode mode = pool_mode::static_size;
  // dynamic and ondemand pools (busy/idle from the scoreboard, or the listen queue for
  // applications that do not report).
  unsigned max_workers = 0;    ///< required by dynamic and ondemand, 1..1024
  unsigned min_spare = 1;      ///< dynamic: start workers while fewer are idle
  unsigned max_spare = 3;      ///< dynamic: stop idle workers above this many
  unsigned start_workers = 0;  ///< dynamic: at start; 0 = min_spare + (max_spare - min_spare) / 2
  std::chrono::milliseconds idle_timeout{std::chrono::seconds(10)};  ///< ondemand

  // Who the workers are and where they run (applied in the child before exec, in this order:
  // rlimits, umask, chroot, chdir, setgroups, setgid, setuid).
  std::optional<std::string> user;   ///< name or numeric uid; needs a root manager
  std::optional<std::string> group;  ///< default: the user's primary group
  std::string chroot;                ///< empty: none
  std::string chdir;                 ///< empty: "/" under chroot, else the manager's cwd
  std::optional<mode_t> umask;       ///< empty: inherit the manager's
  std::optional<std::uint64_t> rlimit_nofile;
  std::optional<std::uint64_t> rlimit_core;

  // The environment is built from scratch: these names copied from the manager's environment,
  // then `env`, then FCGI_WEB_SERVER_ADDRS from allowed_clients (tcp pools).
  std::vector<std::string> env_allow;
  std::vector<std::pair<std::string, std::string>> env;
  std::vector<std::string> allowed_clients;

  // The unix socket the manager creates.
  std::optional<mode_t> socket_mode;  ///< default 0660
  std::optional<std::string> socket_owner;
  std::optional<std::string> socket_group;
  bool allow_world_writable = false;  ///< needed for a socket_mode with o+w
  int backlog = 1024;

  /// A worker whose resident memory (VmRSS) passes this many bytes is replaced gracefully
  /// (checked once a second). 0 = no limit.
  std::uint64_t max_rss = 0;
  // Request-level limits, read from the worker's scoreboard: they apply to fcgikit
  // applications only (libfcgi or Go workers never report; see docs/fcgi-pm.md).
  /// A worker that has served this many requests is replaced gracefully. 0 = unlimited.
  std::uint64_t max_requests = 0;
  /// A worker whose handler runs longer is killed (SIGTERM, SIGKILL after a short grace).
  /// 0 = none.
  std::chrono::milliseconds request_timeout{0};
  /// A handler running longer is logged once (php-fpm's request_slowlog_timeout). 0 = off.
  std::chrono::milliseconds slowlog_timeout{0};

  // Lifecycle.
  /// What asks a worker to finish its requests and exit (stop, reload, recycle, shrink).
  /// libfcgi and Go apps die at once on SIGTERM; php-fpm's workers stop gracefully on SIGQUIT.
  int stop_signal = 15;  // SIGTERM (<csignal> is not included here)
  std::chrono::milliseconds graceful_timeout{std::chrono::seconds(30)};
  /// A worker that exits sooner than this after its start counts as a failed start (backoff);
  /// during a reload a new worker must have been up this long before an old one is stopped.
  std::chrono::milliseconds min_uptime{std::chrono::seconds(1)};
  std::chrono::milliseconds backoff_initial{std::chrono::milliseconds(100)};
  std::chrono::milliseconds backoff_max{std::chrono::seconds(30)};
};

/// Reads a config file. Throws config_error (unreadable file, TOML syntax, unknown or invalid
/// key, failed validation) with "FILE:LINE: KEY: problem; fix".
std::vector<pool_config> load_config_file(const std::string& path);
/// The same from text; `source_name` stands for the file in messages.
std::vector<pool_config> parse_config(std::string_view text, const std::string& source_name);

/// Checks one pool alone (also run by parse_config for each pool): every field in range,
/// command present, insecure combinations refused (world-writable socket without
/// allow_world_writable, allowed_clients on a unix pool, chroot with a relative program).
/// `where` prefixes messages (e.g. "app.toml:3: pool.app" or "--workers").
void validate(const pool_config& pool, const std::string& where);

/// Checks pools together: names unique, no two pools on the same endpoint.
void validate_all(const std::vector<pool_config>& pools);

/// Checks who the workers will be, knowing whether the manager runs as root (euid 0):
/// `user` needs root; a root manager with no `user` (or user root) needs `allow_root`, as
/// php-fpm needs -R. Throws config_error naming the pool and both fixes.
void check_privileges(const pool_config& pool, bool manager_is_root, bool allow_root);

/// "30", "30s", "500ms", "2m", "1h", "1.5s" (a bare number is seconds) → milliseconds;
/// nullopt when malformed or negative.
std::optional<std::chrono::milliseconds> parse_duration(std::string_view text);
/// "4096", "512K", "256M", "2G" (powers of 1024) → bytes; nullopt when malformed.
std::optional<std::uint64_t> parse_size(std::string_view text);
/// "022", "0660", "660" (octal, at most 0777) → mode; nullopt when malformed.
std::optional<mode_t> parse_mode(std::string_view text);

/// "TERM", "SIGTERM", "QUIT", "INT", "HUP", "USR1", "USR2", "WINCH" (with or without SIG) →
/// the signal number; nullopt otherwise.
std::optional<int> parse_signal(std::string_view text);

/// The top-level `status_listen` of a config file ("" when the file has none); throws
/// config_error like load_config_file.
std::string load_status_listen(const std::string& path);

/// "static", "dynamic", "ondemand"; nullopt otherwise.
std::optional<pool_mode> parse_pool_mode(std::string_view text);

/// The pool name a command line pool gets: the program's file name ("./bin/app" → "app").
std::string default_pool_name(const std::vector<std::string>& command);

}  // namespace fcgi::pm
