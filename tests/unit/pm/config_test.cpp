#include <fcgi/pm/config.hpp>

#include <csignal>

#include <gtest/gtest.h>

#include <string>

namespace {

using fcgi::pm::config_error;
using fcgi::pm::parse_config;
using fcgi::pm::pool_config;
using namespace std::chrono_literals;

/// The message of the config_error `text` raises, or "" when it parses.
std::string error_of(const std::string& text) {
  try {
    parse_config(text, "app.toml");
  } catch (const config_error& e) {
    return e.what();
  }
  return "";
}

constexpr const char* minimal = R"(
[pool.app]
listen = "unix:/run/app.sock"
command = ["/usr/bin/app", "--flag"]
)";

TEST(pm_config, minimal_pool_gets_the_defaults) {
  const auto pools = parse_config(minimal, "app.toml");
  ASSERT_EQ(pools.size(), 1U);
  const pool_config& pool = pools[0];
  EXPECT_EQ(pool.name, "app");
  EXPECT_EQ(pool.listen.path, "/run/app.sock");
  EXPECT_EQ(pool.command, (std::vector<std::string>{"/usr/bin/app", "--flag"}));
  EXPECT_EQ(pool.workers, 1U);
  EXPECT_FALSE(pool.user);
  EXPECT_FALSE(pool.umask);
  EXPECT_EQ(pool.graceful_timeout, 30s);
  EXPECT_EQ(pool.min_uptime, 1s);
  EXPECT_EQ(pool.backoff_initial, 100ms);
  EXPECT_EQ(pool.backoff_max, 30s);
  EXPECT_EQ(pool.max_requests, 0U);
}

TEST(pm_config, every_key_is_read) {
  const auto pools = parse_config(R"(
[pool.web]
listen = "tcp:127.0.0.1:9000"
command = ["/srv/app"]
workers = 4
user = "www-data"
group = "www-data"
chroot = "/srv/jail"
chdir = "/data"
umask = "027"
env_allow = ["PATH", "LANG"]
env = { APP_ENV = "prod", DEBUG = "0" }
rlimit_nofile = 4096
rlimit_core = "1G"
allowed_clients = ["127.0.0.1", "::1"]
max_requests = 500
max_rss = "256M"
request_timeout = "60s"
slowlog_timeout = "5s"
graceful_timeout = 10
min_uptime = "500ms"
backoff_initial = 0.25
backoff_max = "1m"
backlog = 128

[pool.other]
listen = "unix:/run/other.sock"
command = ["/bin/other"]
socket_mode = 0o660
socket_owner = "www-data"
socket_group = "www-data"
)",
                                  "app.toml");
  ASSERT_EQ(pools.size(), 2U);
  const pool_config& web = pools[0];
  EXPECT_EQ(web.workers, 4U);
  EXPECT_EQ(web.user, "www-data");
  EXPECT_EQ(web.chroot, "/srv/jail");
  EXPECT_EQ(web.chdir, "/data");
  EXPECT_EQ(web.umask, mode_t{027});
  EXPECT_EQ(web.env_allow, (std::vector<std::string>{"PATH", "LANG"}));
  ASSERT_EQ(web.env.size(), 2U);
  EXPECT_EQ(web.env[0], (std::pair<std::string, std::string>{"APP_ENV", "prod"}));
  EXPECT_EQ(web.rlimit_nofile, 4096U);
  EXPECT_EQ(web.rlimit_core, std::uint64_t{1} << 30);
  EXPECT_EQ(web.allowed_clients.size(), 2U);
  EXPECT_EQ(web.max_requests, 500U);
  EXPECT_EQ(web.max_rss, 256U << 20);
  EXPECT_EQ(web.request_timeout, 60s);
  EXPECT_EQ(web.slowlog_timeout, 5s);
  EXPECT_EQ(web.graceful_timeout, 10s);
  EXPECT_EQ(web.min_uptime, 500ms);
  EXPECT_EQ(web.backoff_initial, 250ms);
  EXPECT_EQ(web.backoff_max, 60s);
  EXPECT_EQ(web.backlog, 128);
  EXPECT_EQ(pools[1].socket_mode, mode_t{0660});
  EXPECT_EQ(pools[1].socket_group, "www-data");
}

TEST(pm_config, syntax_error_names_line_and_column) {
  const std::string message = error_of("[pool.app]\nlisten = \"unix:/x\"\ncommand = [\"/a\"\n");
  EXPECT_TRUE(message.starts_with("app.toml:3:") || message.starts_with("app.toml:4:")) << message;
  EXPECT_NE(message.find("fix the TOML syntax"), std::string::npos) << message;
}

TEST(pm_config, bad_value_names_line_key_and_fix) {
  const std::string message = error_of(std::string(minimal) + "workers = 0\n");
  EXPECT_EQ(message,
            "app.toml:5: pool.app.workers: must be an integer from 1 to 1024, got 0; "
            "e.g. workers = 4");
}

TEST(pm_config, wrong_type_names_the_type) {
  const std::string message = error_of(std::string(minimal) + "workers = \"four\"\n");
  EXPECT_NE(message.find("app.toml:5: pool.app.workers: must be an integer, got a string"),
            std::string::npos)
      << message;
}

TEST(pm_config, unknown_key_is_refused_with_the_list) {
  const std::string message = error_of(std::string(minimal) + "wokers = 3\n");
  EXPECT_NE(message.find("app.toml:5: pool.app.wokers: unknown key"), std::string::npos) << message;
  EXPECT_NE(message.find("workers"), std::string::npos) << message;
  EXPECT_NE(error_of("[global]\nx = 1\n").find("unknown top-level key"), std::string::npos);
}

TEST(pm_config, missing_listen_or_command) {
  EXPECT_NE(error_of("[pool.app]\ncommand = [\"/a\"]\n").find("app.toml:1: pool.app: no listen"),
            std::string::npos);
  EXPECT_NE(error_of("[pool.app]\nlisten = \"unix:/a\"\n").find("no command"), std::string::npos);
  EXPECT_NE(error_of("[pool.app]\nlisten = \"unix:/a\"\ncommand = []\n").find("command is empty"),
            std::string::npos);
  EXPECT_NE(error_of("").find("no pool defined"), std::string::npos);
}

TEST(pm_config, bad_endpoint_is_explained) {
  const std::string message =
      error_of("[pool.app]\nlisten = \"/run/app.sock\"\ncommand = [\"/a\"]\n");
  EXPECT_NE(message.find("app.toml:2: pool.app.listen: unknown endpoint"), std::string::npos)
      << message;
}

TEST(pm_config, decimal_mode_is_ambiguous) {
  const std::string message = error_of(std::string(minimal) + "umask = 22\n");
  EXPECT_NE(message.find("pool.app.umask: a mode is octal"), std::string::npos) << message;
  EXPECT_NE(error_of(std::string(minimal) + "umask = \"999\"\n").find("not an octal mode"),
            std::string::npos);
}

TEST(pm_config, world_writable_socket_needs_consent) {
  const std::string message = error_of(std::string(minimal) + "socket_mode = \"0666\"\n");
  EXPECT_NE(message.find("socket_mode 0666 lets every local user connect"), std::string::npos)
      << message;
  EXPECT_NE(message.find("allow_world_writable = true"), std::string::npos) << message;
  EXPECT_EQ(
      error_of(std::string(minimal) + "socket_mode = \"0666\"\nallow_world_writable = true\n"), "");
}

TEST(pm_config, insecure_or_meaningless_combinations) {
  // allowed_clients is for TCP (spec 3.2 refuses unix peers when it is set).
  EXPECT_NE(
      error_of(std::string(minimal) + "allowed_clients = [\"127.0.0.1\"]\n").find("tcp pools only"),
      std::string::npos);
  EXPECT_NE(error_of("[pool.a]\nlisten = \"tcp:9000\"\ncommand = [\"/a\"]\n"
                     "allowed_clients = [\"localhost\"]\n")
                .find("not a numeric IPv4 or IPv6 address"),
            std::string::npos);
  EXPECT_NE(
      error_of("[pool.a]\nlisten = \"tcp:9000\"\ncommand = [\"/a\"]\nsocket_mode = \"0660\"\n")
          .find("unix sockets only"),
      std::string::npos);
  EXPECT_NE(error_of("[pool.a]\nlisten = \"unix:/a\"\ncommand = [\"app\"]\nchroot = \"/srv\"\n")
                .find("must be absolute"),
            std::string::npos);
  EXPECT_NE(error_of(std::string(minimal) + "env_allow = [\"BAD-NAME\"]\n").find("env_allow"),
            std::string::npos);
  EXPECT_NE(error_of(std::string(minimal) + "env = { \"A B\" = \"x\" }\n")
                .find("not a valid environment variable name"),
            std::string::npos);
  EXPECT_NE(error_of(std::string(minimal) + "backoff_initial = \"1m\"\nbackoff_max = \"1s\"\n")
                .find("backoff_initial must be above 0 and at most backoff_max"),
            std::string::npos);
  // A tiny min_uptime would count an instant death as a success: a respawn loop.
  EXPECT_NE(error_of(std::string(minimal) + "min_uptime = \"10ms\"\n")
                .find("min_uptime must be at least 100ms"),
            std::string::npos);
}

TEST(pm_config, pools_need_distinct_names_and_endpoints) {
  const std::string message = error_of(std::string(minimal) +
                                       "[pool.b]\nlisten = \"unix:/run/app.sock\"\n"
                                       "command = [\"/b\"]\n");
  EXPECT_NE(message.find("listens on unix:/run/app.sock, as another pool does"), std::string::npos)
      << message;
}

TEST(pm_config, durations_sizes_and_modes) {
  using fcgi::pm::parse_duration;
  EXPECT_EQ(parse_duration("30"), 30s);
  EXPECT_EQ(parse_duration("1.5s"), 1500ms);
  EXPECT_EQ(parse_duration("500ms"), 500ms);
  EXPECT_EQ(parse_duration("2m"), 120s);
  EXPECT_EQ(parse_duration("1h"), 3600s);
  EXPECT_FALSE(parse_duration(""));
  EXPECT_FALSE(parse_duration("-1s"));
  EXPECT_FALSE(parse_duration("s"));
  EXPECT_FALSE(parse_duration("10 s"));
  EXPECT_FALSE(parse_duration("5d"));
  using fcgi::pm::parse_size;
  EXPECT_EQ(parse_size("4096"), 4096U);
  EXPECT_EQ(parse_size("512K"), 512U * 1024);
  EXPECT_EQ(parse_size("2G"), std::uint64_t{2} << 30);
  EXPECT_FALSE(parse_size("12X"));
  EXPECT_FALSE(parse_size(""));
  using fcgi::pm::parse_mode;
  EXPECT_EQ(parse_mode("022"), mode_t{022});
  EXPECT_EQ(parse_mode("0660"), mode_t{0660});
  EXPECT_EQ(parse_mode("0o750"), mode_t{0750});
  EXPECT_FALSE(parse_mode("0800"));
  EXPECT_FALSE(parse_mode("1777"));
  EXPECT_FALSE(parse_mode(""));
}

TEST(pm_config, privileges_follow_php_fpm) {
  pool_config pool = parse_config(minimal, "app.toml")[0];
  // A root manager refuses root workers unless allowed (php-fpm's -R).
  EXPECT_THROW(fcgi::pm::check_privileges(pool, true, false), config_error);
  EXPECT_NO_THROW(fcgi::pm::check_privileges(pool, true, true));
  pool.user = "root";
  EXPECT_THROW(fcgi::pm::check_privileges(pool, true, false), config_error);
  pool.user = "nobody";
  EXPECT_NO_THROW(fcgi::pm::check_privileges(pool, true, false));
  // An unprivileged manager cannot switch users.
  try {
    fcgi::pm::check_privileges(pool, false, false);
    ADD_FAILURE() << "user without root accepted";
  } catch (const config_error& e) {
    EXPECT_NE(std::string(e.what()).find("needs fcgi-pm to run as root"), std::string::npos);
  }
  pool.user.reset();
  EXPECT_NO_THROW(fcgi::pm::check_privileges(pool, false, false));
}

TEST(pm_config, default_pool_name_is_the_program) {
  EXPECT_EQ(fcgi::pm::default_pool_name({"./bin/hello", "x"}), "hello");
  EXPECT_EQ(fcgi::pm::default_pool_name({"app"}), "app");
  EXPECT_EQ(fcgi::pm::default_pool_name({}), "app");
}

}  // namespace

namespace {

TEST(pm_config, dynamic_and_ondemand_pools) {
  const auto pools = parse_config(std::string(minimal) +
                                      "mode = \"dynamic\"\nmax_workers = 8\nmin_spare = 2\n"
                                      "max_spare = 4\nstart_workers = 3\n",
                                  "app.toml");
  EXPECT_EQ(pools[0].mode, fcgi::pm::pool_mode::dynamic);
  EXPECT_EQ(pools[0].max_workers, 8U);
  EXPECT_EQ(pools[0].min_spare, 2U);
  EXPECT_EQ(pools[0].max_spare, 4U);
  EXPECT_EQ(pools[0].start_workers, 3U);
  const auto ondemand = parse_config(
      std::string(minimal) + "mode = \"ondemand\"\nmax_workers = 4\nidle_timeout = \"5s\"\n",
      "app.toml");
  EXPECT_EQ(ondemand[0].mode, fcgi::pm::pool_mode::ondemand);
  EXPECT_EQ(ondemand[0].idle_timeout, std::chrono::seconds(5));
  EXPECT_NE(error_of(std::string(minimal) + "mode = \"dynamic\"\n").find("needs max_workers"),
            std::string::npos);
  EXPECT_NE(error_of(std::string(minimal) +
                     "mode = \"dynamic\"\nmax_workers = 4\nmin_spare = 3\nmax_spare = 2\n")
                .find("1 <= min_spare <= max_spare <= max_workers"),
            std::string::npos);
  EXPECT_NE(error_of(std::string(minimal) + "mode = \"adaptive\"\n")
                .find("must be \"static\", \"dynamic\" or \"ondemand\""),
            std::string::npos);
}

}  // namespace

namespace {

TEST(pm_config, stop_signal_and_a_top_level_status_listen) {
  const auto pools = parse_config(
      "status_listen = \"unix:/run/st.sock\"\n" + std::string(minimal) + "stop_signal = \"QUIT\"\n",
      "app.toml");
  EXPECT_EQ(pools[0].stop_signal, SIGQUIT);
  EXPECT_EQ(fcgi::pm::parse_signal("SIGUSR1"), SIGUSR1);
  EXPECT_EQ(fcgi::pm::parse_signal("TERM"), SIGTERM);
  EXPECT_FALSE(fcgi::pm::parse_signal("KILL"));
  EXPECT_NE(error_of(std::string(minimal) + "stop_signal = \"STOP\"\n")
                .find("app.toml:5: pool.app.stop_signal: 'STOP' is not a signal fcgi-pm sends"),
            std::string::npos);
  EXPECT_NE(error_of("status_listen = \"nowhere\"\n" + std::string(minimal)).find("status_listen"),
            std::string::npos);
}

}  // namespace
