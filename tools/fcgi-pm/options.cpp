#include "options.hpp"

#include <iostream>
#include <string_view>
#include <vector>

#include <CLI/CLI.hpp>

namespace fcgi_pm {
namespace {

namespace pm = fcgi::pm;

constexpr const char* description = R"(Run FastCGI applications as pools of persistent processes.

fcgi-pm opens each pool's listening socket once and starts the pool's workers with that
socket as fd 0 (the FastCGI convention), so any FastCGI application works unchanged: fcgikit
apps, libfcgi (fcgi2) apps, Go net/http/fcgi, ... It keeps the number of workers up, replaces
workers that die (with a backoff when they die at start), replaces every worker on SIGHUP
without refusing a connection, and runs workers as another user, in a chroot, with a clean
environment.

Usage: fcgi-pm [OPTIONS] -l ENDPOINT [POOL OPTIONS] -- PROGRAM [ARGS...]
       fcgi-pm [OPTIONS] -c FILE          (both forms may be combined)
       fcgi-pm status ENDPOINT [--prometheus]

One pool from the command line:  fcgi-pm -l unix:/run/app.sock -w 4 -u www-data -- ./app args
Pools from a TOML file:          fcgi-pm -c /etc/fcgi-pm.toml)";

constexpr const char* footer = R"(
Signals:
  SIGTERM          graceful stop: no more starts, stop_signal (default SIGTERM) to every
                   worker, SIGKILL after
                   graceful_timeout (default 30 s); exit 0 once all have exited
  SIGINT, SIGQUIT  fast stop: SIGTERM to every worker, SIGKILL after 1 s
  (a second stop signal kills every worker at once)
  SIGHUP           reload: re-read the config file, then replace the workers one by one (a new
                   one first; an old one is stopped once the new one has been up min_uptime).
                   A config that does not load is logged and the running one stays.

Exit status:
  0  stopped by a signal after every worker exited (or -t: the configuration is valid)
  1  could not start: a socket could not be opened, ...
  2  usage or configuration error (the message names the option, or the file, line and key)

Examples:
  fcgi-pm -l unix:/run/hello.sock -w 4 -u www-data --socket-group www-data -- /usr/bin/hello
  fcgi-pm -l tcp:127.0.0.1:9000 --allowed-clients 127.0.0.1 -w 2 --env PATH -- ./app
  fcgi-pm -c /etc/fcgi-pm.toml --log-format json
  fcgi-pm -t -c /etc/fcgi-pm.toml      # check the file and exit
  fcgi-pm -c /etc/fcgi-pm.toml --status-listen unix:/run/fcgi-pm-status.sock
  fcgi-pm status unix:/run/fcgi-pm-status.sock      # workers by state, requests, restarts
  fcgi-pm -l unix:/run/app.sock --mode dynamic --max-workers 16 --min-spare 2 --max-spare 4 \
          --max-requests 10000 --request-timeout 60s --slowlog-timeout 5s -- ./app
  fcgi-pm -l unix:/run/app.sock --mode ondemand --max-workers 8 --idle-timeout 30s -- ./app

max_requests, request_timeout, slowlog_timeout and busy/idle workers need an fcgikit app (it
reports to the scoreboard on fd 3); for other apps only max_rss and the listen queue apply.

Full reference: docs/fcgi-pm.md)";

[[noreturn]] void usage_error(const std::string& option, const std::string& problem) {
  throw pm::config_error(option + ": " + problem);
}

std::chrono::milliseconds duration_option(const std::string& option, const std::string& text) {
  const auto value = pm::parse_duration(text);
  if (!value) usage_error(option, "'" + text + "' is not a duration (e.g. 30s, 500ms, 2m)");
  return *value;
}

struct raw_options {
  std::string listen;
  unsigned workers = 1;
  std::string name;
  std::string user;
  std::string group;
  std::string chroot;
  std::string chdir;
  std::string umask;
  std::vector<std::string> env;
  std::string socket_mode;
  std::string socket_owner;
  std::string socket_group;
  bool allow_world_writable = false;
  std::string allowed_clients;
  std::string graceful_timeout;
  std::string min_uptime;
  std::string backoff_initial;
  std::string backoff_max;
  std::uint64_t rlimit_nofile = 0;
  std::string max_rss;
  std::uint64_t max_requests = 0;
  std::string mode;
  std::string stop_signal;
  unsigned max_workers = 0;
  unsigned min_spare = 0;
  unsigned max_spare = 0;
  unsigned start_workers = 0;
  std::string idle_timeout;
  std::string request_timeout;
  std::string slowlog_timeout;
  std::string log_format = "text";
};

/// The pool of `-- PROGRAM ARGS`; throws config_error naming the option at fault.
pm::pool_config command_line_pool(const raw_options& raw, std::vector<std::string> command) {
  pm::pool_config pool;
  pool.command = std::move(command);
  pool.name = raw.name.empty() ? pm::default_pool_name(pool.command) : raw.name;
  if (raw.listen.empty()) usage_error("--listen", "required with a command (-- PROGRAM ...)");
  pool.listen_text = raw.listen;
  try {
    pool.listen = fcgi::runtime::parse_endpoint(raw.listen);
  } catch (const std::invalid_argument& e) {
    usage_error("--listen", e.what());
  }
  pool.workers = raw.workers;
  if (!raw.user.empty()) pool.user = raw.user;
  if (!raw.group.empty()) pool.group = raw.group;
  pool.chroot = raw.chroot;
  pool.chdir = raw.chdir;
  if (!raw.umask.empty()) {
    pool.umask = pm::parse_mode(raw.umask);
    if (!pool.umask) usage_error("--umask", "'" + raw.umask + "' is not an octal mode (e.g. 027)");
  }
  for (const std::string& entry : raw.env) {
    const auto eq = entry.find('=');
    if (eq == std::string::npos) {
      pool.env_allow.push_back(entry);
    } else {
      pool.env.emplace_back(entry.substr(0, eq), entry.substr(eq + 1));
    }
  }
  if (!raw.socket_mode.empty()) {
    pool.socket_mode = pm::parse_mode(raw.socket_mode);
    if (!pool.socket_mode) {
      usage_error("--socket-mode", "'" + raw.socket_mode + "' is not an octal mode (e.g. 0660)");
    }
  }
  if (!raw.socket_owner.empty()) pool.socket_owner = raw.socket_owner;
  if (!raw.socket_group.empty()) pool.socket_group = raw.socket_group;
  pool.allow_world_writable = raw.allow_world_writable;
  std::string_view clients = raw.allowed_clients;
  while (!clients.empty()) {
    const auto comma = clients.find(',');
    if (comma != 0) pool.allowed_clients.emplace_back(clients.substr(0, comma));
    clients = comma == std::string_view::npos ? std::string_view{} : clients.substr(comma + 1);
  }
  if (!raw.graceful_timeout.empty()) {
    pool.graceful_timeout = duration_option("--graceful-timeout", raw.graceful_timeout);
  }
  if (!raw.min_uptime.empty()) pool.min_uptime = duration_option("--min-uptime", raw.min_uptime);
  if (!raw.backoff_initial.empty()) {
    pool.backoff_initial = duration_option("--backoff-initial", raw.backoff_initial);
  }
  if (!raw.backoff_max.empty()) {
    pool.backoff_max = duration_option("--backoff-max", raw.backoff_max);
  }
  if (raw.rlimit_nofile != 0) pool.rlimit_nofile = raw.rlimit_nofile;
  if (!raw.max_rss.empty()) {
    const auto bytes = pm::parse_size(raw.max_rss);
    if (!bytes) usage_error("--max-rss", "'" + raw.max_rss + "' is not a size (e.g. 512M)");
    pool.max_rss = *bytes;
  }
  pool.max_requests = raw.max_requests;
  if (!raw.stop_signal.empty()) {
    const auto signal = pm::parse_signal(raw.stop_signal);
    if (!signal) {
      usage_error("--stop-signal", "'" + raw.stop_signal +
                                       "' is not one of TERM, QUIT, INT, HUP, "
                                       "USR1, USR2, WINCH");
    }
    pool.stop_signal = *signal;
  }
  if (!raw.mode.empty()) {
    const auto mode = pm::parse_pool_mode(raw.mode);
    if (!mode) usage_error("--mode", "'" + raw.mode + "' is not static, dynamic or ondemand");
    pool.mode = *mode;
  }
  pool.max_workers = raw.max_workers;
  if (raw.min_spare != 0) pool.min_spare = raw.min_spare;
  if (raw.max_spare != 0) pool.max_spare = raw.max_spare;
  pool.start_workers = raw.start_workers;
  if (!raw.idle_timeout.empty()) {
    pool.idle_timeout = duration_option("--idle-timeout", raw.idle_timeout);
  }
  if (!raw.request_timeout.empty()) {
    pool.request_timeout = duration_option("--request-timeout", raw.request_timeout);
  }
  if (!raw.slowlog_timeout.empty()) {
    pool.slowlog_timeout = duration_option("--slowlog-timeout", raw.slowlog_timeout);
  }
  pm::validate(pool, "pool " + pool.name + " (command line)");
  return pool;
}

}  // namespace

/// `fcgi-pm status ENDPOINT [--prometheus]`.
std::optional<options> parse_status(int argc, char** argv) {
  CLI::App app("Print the status of a running fcgi-pm (started with --status-listen).",
               "fcgi-pm status");
  options out;
  app.add_option("ENDPOINT", out.status_endpoint, "Its --status-listen endpoint")
      ->type_name("")
      ->required();
  app.add_flag("--prometheus", out.status_prometheus, "Prometheus text instead of JSON");
  try {
    app.parse(argc - 1, argv + 1);  // NOLINT(cppcoreguidelines-pro-bounds-pointer-arithmetic)
  } catch (const CLI::CallForHelp&) {
    std::cout << app.help();
    return std::nullopt;
  } catch (const CLI::ParseError& e) {
    throw pm::config_error(e.what());
  }
  return out;
}

std::optional<options> parse(int argc, char** argv) {
  if (argc >= 2 && std::string_view(argv[1]) == "status") {  // NOLINT
    return parse_status(argc, argv);
  }
  // Everything after the first "--" is the program and its arguments, untouched.
  std::vector<std::string> command;
  int own = argc;
  for (int i = 1; i < argc; ++i) {
    if (std::string_view(argv[i]) == "--") {  // NOLINT(cppcoreguidelines-pro-bounds-*)
      own = i;
      for (int j = i + 1; j < argc; ++j) command.emplace_back(argv[j]);  // NOLINT
      break;
    }
  }

  CLI::App app(description, "fcgi-pm");
  app.footer(footer);
  app.get_formatter()->column_width(36);
  options out;
  raw_options raw;

  app.add_option("-c,--config", out.manager.config_file,
                 "TOML file with [pool.NAME] tables (re-read on SIGHUP)")
      ->type_name("FILE");
  app.add_flag("-t,--test", out.test_only, "Check the configuration, print it and exit");
  app.add_flag("-R,--allow-root", out.manager.allow_root,
               "Allow workers to run as root (refused otherwise when fcgi-pm is root)");
  app.add_option("--status-listen", out.manager.status_listen,
                 "Serve the status (JSON, Prometheus) here; read it with fcgi-pm status "
                 "[config: status_listen]")
      ->type_name("ENDPOINT");
  app.add_option("--log-format", raw.log_format, "Log lines as text or json")
      ->type_name("FORMAT")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();

  auto* pool = "The pool of `-- PROGRAM ARGS` (config keys in brackets)";
  app.add_option("-l,--listen", raw.listen, "unix:PATH, tcp:HOST:PORT, tcp:PORT [listen]")
      ->type_name("ENDPOINT")
      ->group(pool);
  app.add_option("-w,--workers", raw.workers, "Worker processes [workers]")
      ->type_name("N")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str()
      ->group(pool);
  app.add_option("-n,--name", raw.name, "Pool name in logs (default: the program's name)")
      ->type_name("NAME")
      ->group(pool);
  app.add_option("-u,--user", raw.user, "Run workers as this user [user]")
      ->type_name("USER")
      ->group(pool);
  app.add_option("-g,--group", raw.group, "... and group (default: the user's) [group]")
      ->type_name("GROUP")
      ->group(pool);
  app.add_option("--chroot", raw.chroot, "chroot workers here [chroot]")
      ->type_name("DIR")
      ->group(pool);
  app.add_option("--chdir", raw.chdir, "Workers' working directory [chdir]")
      ->type_name("DIR")
      ->group(pool);
  app.add_option("--umask", raw.umask, "Workers' umask, octal [umask]")
      ->type_name("MODE")
      ->group(pool);
  app.add_option("-e,--env", raw.env,
                 "NAME: pass the manager's NAME [env_allow]; NAME=VALUE: set it [env]")
      ->type_name("NAME[=VALUE]")
      ->allow_extra_args(false)
      ->group(pool);
  app.add_option("--socket-mode", raw.socket_mode, "Unix socket mode (default 0660)")
      ->type_name("MODE")
      ->group(pool);
  app.add_option("--socket-owner", raw.socket_owner, "Unix socket owner")
      ->type_name("USER")
      ->group(pool);
  app.add_option("--socket-group", raw.socket_group, "Unix socket group (the web server's)")
      ->type_name("GROUP")
      ->group(pool);
  app.add_flag("--allow-world-writable", raw.allow_world_writable, "Accept a socket mode with o+w")
      ->group(pool);
  app.add_option("--allowed-clients", raw.allowed_clients,
                 "tcp: peer addresses allowed (FCGI_WEB_SERVER_ADDRS)")
      ->type_name("ADDR,...")
      ->group(pool);
  app.add_option("--stop-signal", raw.stop_signal,
                 "Asks a worker to stop (default TERM; QUIT for php-fpm-like apps)")
      ->type_name("SIGNAL")
      ->group(pool);
  app.add_option("--graceful-timeout", raw.graceful_timeout, "stop_signal to SIGKILL (default 30s)")
      ->type_name("DURATION")
      ->group(pool);
  app.add_option("--min-uptime", raw.min_uptime, "Shorter lives are failed starts (default 1s)")
      ->type_name("DURATION")
      ->group(pool);
  app.add_option("--backoff-initial", raw.backoff_initial, "First delay (default 100ms)")
      ->type_name("DURATION")
      ->group(pool);
  app.add_option("--backoff-max", raw.backoff_max, "Longest delay (default 30s)")
      ->type_name("DURATION")
      ->group(pool);
  app.add_option("--max-rss", raw.max_rss, "Replace a worker whose memory passes this")
      ->type_name("SIZE")
      ->group(pool);
  app.add_option("--mode", raw.mode, "static (default), dynamic or ondemand [mode]")
      ->type_name("MODE")
      ->group(pool);
  app.add_option("--max-workers", raw.max_workers, "dynamic, ondemand: the most workers")
      ->type_name("N")
      ->group(pool);
  app.add_option("--min-spare", raw.min_spare, "dynamic: fewest idle workers (default 1)")
      ->type_name("N")
      ->group(pool);
  app.add_option("--max-spare", raw.max_spare, "dynamic: most idle workers (default 3)")
      ->type_name("N")
      ->group(pool);
  app.add_option("--start-workers", raw.start_workers, "dynamic: workers at start")
      ->type_name("N")
      ->group(pool);
  app.add_option("--idle-timeout", raw.idle_timeout, "ondemand: stop a worker idle this long (10s)")
      ->type_name("DURATION")
      ->group(pool);
  app.add_option("--max-requests", raw.max_requests,
                 "Replace a worker after N requests (fcgikit apps)")
      ->type_name("N")
      ->group(pool);
  app.add_option("--request-timeout", raw.request_timeout,
                 "Kill a worker whose handler runs longer (fcgikit apps)")
      ->type_name("DURATION")
      ->group(pool);
  app.add_option("--slowlog-timeout", raw.slowlog_timeout,
                 "Log a handler running longer (fcgikit apps)")
      ->type_name("DURATION")
      ->group(pool);
  app.add_option("--rlimit-nofile", raw.rlimit_nofile, "Workers' open file limit")
      ->type_name("N")
      ->group(pool);

  try {
    app.parse(own, argv);
  } catch (const CLI::CallForHelp&) {
    std::cout << app.help();
    return std::nullopt;
  } catch (const CLI::ParseError& e) {
    throw pm::config_error(e.what());
  }
  out.log_format = raw.log_format == "json" ? pm::log_format::json : pm::log_format::text;
  if (!command.empty()) {
    out.manager.command_line_pools.push_back(command_line_pool(raw, std::move(command)));
  } else if (!raw.listen.empty()) {
    usage_error("--listen",
                "give the program after --, e.g. fcgi-pm -l " + raw.listen + " -- ./app");
  }
  if (command.empty() && out.manager.command_line_pools.empty() &&
      out.manager.config_file.empty()) {
    throw pm::config_error(
        "nothing to run: give --config FILE or -l ENDPOINT -- PROGRAM ARGS "
        "(see fcgi-pm --help)");
  }
  return out;
}

}  // namespace fcgi_pm
