#include <fcgi/pm/config.hpp>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <csignal>
#include <cstring>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>

#include <toml++/toml.h>

namespace fcgi::pm {
namespace {

using std::chrono::milliseconds;

constexpr unsigned max_workers = 1024;

/// Where a value came from, for messages: "app.toml:7: pool.app.workers".
std::string locate(const std::string& file, const toml::source_region& region,
                   const std::string& key) {
  std::string text = file;
  if (region.begin.line != 0) text += ":" + std::to_string(region.begin.line);
  return text + ": " + key;
}

[[noreturn]] void fail(const std::string& where, const std::string& problem,
                       const std::string& fix) {
  throw config_error(where + ": " + problem + (fix.empty() ? "" : "; " + fix));
}

std::string type_name(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::string: return "a string";
    case toml::node_type::integer: return "an integer";
    case toml::node_type::floating_point: return "a number";
    case toml::node_type::boolean: return "a boolean";
    case toml::node_type::array: return "an array";
    case toml::node_type::table: return "a table";
    default: return "a date or time";
  }
}

bool valid_env_name(std::string_view name) {
  if (name.empty() || (name.front() >= '0' && name.front() <= '9')) return false;
  for (const char c : name) {
    const bool ok =
        (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    if (!ok) return false;
  }
  return true;
}

/// Reads the keys of one [pool.NAME] table.
class pool_reader {
 public:
  pool_reader(const std::string& file, std::string name) : file_(file), prefix_("pool." + name) {
    pool_.name = std::move(name);
  }

  pool_config read(const toml::table& table) {
    for (const auto& [key_node, node] : table) {
      const std::string key(key_node.str());
      where_ = locate(file_, node.source(), prefix_ + "." + key);
      read_key(key, node);
    }
    const std::string where = locate(file_, table.source(), prefix_);
    if (!seen_listen_) fail(where, "no listen endpoint", "add listen = \"unix:/run/NAME.sock\"");
    if (!seen_command_) fail(where, "no command", R"(add command = ["/path/to/app", "args"])");
    validate(pool_, where);
    return std::move(pool_);
  }

 private:
  void read_key(const std::string& key, const toml::node& node) {
    if (key == "listen") {
      pool_.listen_text = string(node, "listen = \"unix:/run/app.sock\"");
      seen_listen_ = true;
      try {
        pool_.listen = runtime::parse_endpoint(pool_.listen_text);
      } catch (const std::invalid_argument& e) {
        fail(where_, e.what(), "");
      }
    } else if (key == "command") {
      pool_.command = strings(node, R"(command = ["/usr/bin/app", "--flag"])");
      seen_command_ = true;
    } else if (key == "workers") {
      pool_.workers = static_cast<unsigned>(integer(node, 1, max_workers, "workers = 4"));
    } else if (key == "mode") {
      const std::string mode = string(node, "mode = \"dynamic\"");
      const auto parsed = parse_pool_mode(mode);
      if (!parsed) {
        fail(where_, R"(must be "static", "dynamic" or "ondemand", got ")" + mode + "\"",
             "e.g. mode = \"dynamic\"");
      }
      pool_.mode = *parsed;
    } else if (key == "max_workers") {
      pool_.max_workers = static_cast<unsigned>(integer(node, 1, max_workers, "max_workers = 16"));
    } else if (key == "min_spare") {
      pool_.min_spare = static_cast<unsigned>(integer(node, 1, max_workers, "min_spare = 2"));
    } else if (key == "max_spare") {
      pool_.max_spare = static_cast<unsigned>(integer(node, 1, max_workers, "max_spare = 4"));
    } else if (key == "start_workers") {
      pool_.start_workers =
          static_cast<unsigned>(integer(node, 1, max_workers, "start_workers = 3"));
    } else if (key == "idle_timeout") {
      pool_.idle_timeout = duration(node, "idle_timeout = \"10s\"");
    } else if (key == "user") {
      pool_.user = string(node, "user = \"www-data\"");
    } else if (key == "group") {
      pool_.group = string(node, "group = \"www-data\"");
    } else if (key == "chroot") {
      pool_.chroot = string(node, "chroot = \"/srv/app\"");
    } else if (key == "chdir") {
      pool_.chdir = string(node, "chdir = \"/srv/app\"");
    } else if (key == "umask") {
      pool_.umask = mode(node, "umask = \"027\"");
    } else if (key == "socket_mode") {
      pool_.socket_mode = mode(node, "socket_mode = \"0660\"");
    } else if (key == "socket_owner") {
      pool_.socket_owner = string(node, "socket_owner = \"www-data\"");
    } else if (key == "socket_group") {
      pool_.socket_group = string(node, "socket_group = \"www-data\"");
    } else if (key == "allow_world_writable") {
      pool_.allow_world_writable = boolean(node, "allow_world_writable = true");
    } else if (key == "backlog") {
      pool_.backlog = static_cast<int>(integer(node, 1, 65535, "backlog = 1024"));
    } else if (key == "env_allow") {
      pool_.env_allow = strings(node, R"(env_allow = ["PATH", "LANG"])");
    } else if (key == "env") {
      read_env(node);
    } else if (key == "allowed_clients") {
      pool_.allowed_clients = strings(node, R"(allowed_clients = ["127.0.0.1", "::1"])");
    } else if (key == "rlimit_nofile") {
      pool_.rlimit_nofile = static_cast<std::uint64_t>(
          integer(node, 1, std::int64_t{1} << 30, "rlimit_nofile = 65536"));
    } else if (key == "rlimit_core") {
      pool_.rlimit_core = size(node, "rlimit_core = 0 or \"1G\"");
    } else if (key == "max_requests") {
      pool_.max_requests = static_cast<std::uint64_t>(
          integer(node, 0, std::numeric_limits<std::int64_t>::max(), "max_requests = 1000"));
    } else if (key == "max_rss") {
      pool_.max_rss = size(node, "max_rss = \"512M\"");
    } else if (key == "request_timeout") {
      pool_.request_timeout = duration(node, "request_timeout = \"60s\"");
    } else if (key == "slowlog_timeout") {
      pool_.slowlog_timeout = duration(node, "slowlog_timeout = \"5s\"");
    } else if (key == "stop_signal") {
      const std::string name = string(node, "stop_signal = \"QUIT\"");
      const auto signal = parse_signal(name);
      if (!signal) {
        fail(where_, "'" + name + "' is not a signal fcgi-pm sends",
             "one of TERM, QUIT, INT, HUP, USR1, USR2, WINCH, e.g. stop_signal = \"QUIT\"");
      }
      pool_.stop_signal = *signal;
    } else if (key == "graceful_timeout") {
      pool_.graceful_timeout = duration(node, "graceful_timeout = \"30s\"");
    } else if (key == "min_uptime") {
      pool_.min_uptime = duration(node, "min_uptime = \"1s\"");
    } else if (key == "backoff_initial") {
      pool_.backoff_initial = duration(node, "backoff_initial = \"100ms\"");
    } else if (key == "backoff_max") {
      pool_.backoff_max = duration(node, "backoff_max = \"30s\"");
    } else {
      fail(where_, "unknown key",
           "the keys of a pool are listen, command, workers, mode, max_workers, min_spare, "
           "max_spare, start_workers, idle_timeout, user, group, chroot, chdir, umask, "
           "env_allow, env, allowed_clients, rlimit_nofile, rlimit_core, socket_mode, "
           "socket_owner, socket_group, allow_world_writable, backlog, max_requests, max_rss, "
           "request_timeout, slowlog_timeout, stop_signal, graceful_timeout, min_uptime, "
           "backoff_initial, "
           "backoff_max "
           "(docs/fcgi-pm.md)");
    }
  }

  [[noreturn]] void wrong_type(const toml::node& node, const std::string& expected,
                               const std::string& example) {
    fail(where_, "must be " + expected + ", got " + type_name(node), "e.g. " + example);
  }

  std::string string(const toml::node& node, const std::string& example) {
    const auto* value = node.as_string();
    if (value == nullptr) wrong_type(node, "a string", example);
    if (value->get().empty()) fail(where_, "must not be empty", "e.g. " + example);
    if (value->get().find('\0') != std::string::npos) fail(where_, "contains a NUL byte", "");
    return value->get();
  }

  std::vector<std::string> strings(const toml::node& node, const std::string& example) {
    const auto* array = node.as_array();
    if (array == nullptr) wrong_type(node, "an array of strings", example);
    std::vector<std::string> result;
    for (const toml::node& item : *array) {
      const auto* value = item.as_string();
      if (value == nullptr) wrong_type(item, "an array of strings", example);
      if (value->get().find('\0') != std::string::npos) fail(where_, "contains a NUL byte", "");
      result.push_back(value->get());
    }
    return result;
  }

  std::int64_t integer(const toml::node& node, std::int64_t low, std::int64_t high,
                       const std::string& example) {
    const auto* value = node.as_integer();
    if (value == nullptr) wrong_type(node, "an integer", example);
    if (value->get() < low || value->get() > high) {
      fail(where_,
           "must be an integer from " + std::to_string(low) + " to " + std::to_string(high) +
               ", got " + std::to_string(value->get()),
           "e.g. " + example);
    }
    return value->get();
  }

  bool boolean(const toml::node& node, const std::string& example) {
    const auto* value = node.as_boolean();
    if (value == nullptr) wrong_type(node, "true or false", example);
    return value->get();
  }

  /// Octal modes: a string ("0660") or a TOML octal integer (0o660). A decimal integer is
  /// refused: `umask = 22` almost certainly means 022.
  mode_t mode(const toml::node& node, const std::string& example) {
    if (const auto* text = node.as_string()) {
      const auto parsed = parse_mode(text->get());
      if (!parsed) {
        fail(where_, "'" + text->get() + "' is not an octal mode from 0 to 0777",
             "e.g. " + example);
      }
      return *parsed;
    }
    if (const auto* value = node.as_integer()) {
      if (value->flags() != toml::value_flags::format_as_octal) {
        fail(where_,
             "a mode is octal; the decimal " + std::to_string(value->get()) + " is ambiguous",
             "write it as a string, e.g. " + example + ", or as 0o" + std::to_string(value->get()));
      }
      if (value->get() < 0 || value->get() > 0777) {
        fail(where_, "must be an octal mode from 0 to 0777", "e.g. " + example);
      }
      return static_cast<mode_t>(value->get());
    }
    wrong_type(node, "an octal mode as a string", example);
  }

  milliseconds duration(const toml::node& node, const std::string& example) {
    std::optional<milliseconds> parsed;
    if (const auto* text = node.as_string()) {
      parsed = parse_duration(text->get());
    } else if (const auto* integer_value = node.as_integer()) {
      if (integer_value->get() >= 0 && integer_value->get() <= 1000L * 1000 * 1000) {
        parsed = milliseconds(integer_value->get() * 1000);
      }
    } else if (const auto* number = node.as_floating_point()) {
      if (number->get() >= 0 && number->get() <= 1e9) {
        parsed = milliseconds(static_cast<std::int64_t>(std::llround(number->get() * 1000)));
      }
    } else {
      wrong_type(node, "a duration", example);
    }
    if (!parsed) {
      fail(where_, R"(is not a duration (a number of seconds, or "500ms", "30s", "2m", "1h"))",
           "e.g. " + example);
    }
    return *parsed;
  }

  std::uint64_t size(const toml::node& node, const std::string& example) {
    if (const auto* value = node.as_integer()) {
      if (value->get() < 0) fail(where_, "must not be negative", "e.g. " + example);
      return static_cast<std::uint64_t>(value->get());
    }
    if (const auto* text = node.as_string()) {
      const auto parsed = parse_size(text->get());
      if (!parsed) {
        fail(where_, "'" + text->get() + "' is not a size (bytes, or with K, M or G)",
             "e.g. " + example);
      }
      return *parsed;
    }
    wrong_type(node, "a size", example);
  }

  void read_env(const toml::node& node) {
    const auto* table = node.as_table();
    if (table == nullptr) wrong_type(node, "a table of strings", "env = { APP_ENV = \"prod\" }");
    for (const auto& [name_node, value_node] : *table) {
      const std::string name(name_node.str());
      where_ = locate(file_, value_node.source(), prefix_ + ".env." + name);
      if (!valid_env_name(name)) {
        fail(where_, "'" + name + "' is not a valid environment variable name",
             "use letters, digits and _");
      }
      pool_.env.emplace_back(name, string(value_node, "APP_ENV = \"prod\""));
    }
  }

  const std::string& file_;
  std::string prefix_;
  std::string where_;
  pool_config pool_;
  bool seen_listen_ = false;
  bool seen_command_ = false;
};

std::optional<std::uint64_t> parse_unsigned(std::string_view text) {
  std::uint64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return value;
}

}  // namespace

std::optional<milliseconds> parse_duration(std::string_view text) {
  struct unit {
    std::string_view suffix;
    double to_ms;
  };
  constexpr unit units[] = {{"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}};  // NOLINT
  double scale = 1000;
  for (const unit& u : units) {
    if (text.size() > u.suffix.size() && text.ends_with(u.suffix)) {
      const char before = text[text.size() - u.suffix.size() - 1];
      if (before >= '0' && before <= '9') {
        text.remove_suffix(u.suffix.size());
        scale = u.to_ms;
        break;
      }
    }
  }
  double value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc{} || end != text.data() + text.size() || value < 0 ||
      !std::isfinite(value) || value * scale > 1e12 || text.front() == '-' || text.front() == '+') {
    return std::nullopt;
  }
  return milliseconds(static_cast<std::int64_t>(std::llround(value * scale)));
}

std::optional<std::uint64_t> parse_size(std::string_view text) {
  std::uint64_t scale = 1;
  if (!text.empty()) {
    switch (text.back()) {
      case 'K':
      case 'k': scale = 1024; break;
      case 'M':
      case 'm': scale = 1024 * 1024; break;
      case 'G':
      case 'g': scale = 1024 * 1024 * 1024; break;
      default: break;
    }
    if (scale != 1) text.remove_suffix(1);
  }
  const auto value = parse_unsigned(text);
  if (!value || *value > (std::uint64_t{1} << 50) / scale) return std::nullopt;
  return *value * scale;
}

std::optional<mode_t> parse_mode(std::string_view text) {
  if (text.starts_with("0o")) text.remove_prefix(2);
  unsigned value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value, 8);
  if (text.empty() || text.size() > 4 || error != std::errc{} || end != text.data() + text.size() ||
      value > 0777) {
    return std::nullopt;
  }
  return static_cast<mode_t>(value);
}

std::string default_pool_name(const std::vector<std::string>& command) {
  if (command.empty()) return "app";
  std::string_view program = command.front();
  const auto slash = program.rfind('/');
  if (slash != std::string_view::npos) program.remove_prefix(slash + 1);
  return program.empty() ? "app" : std::string(program);
}

std::string_view to_string(pool_mode m) noexcept {
  switch (m) {
    case pool_mode::static_size: return "static";
    case pool_mode::dynamic: return "dynamic";
    case pool_mode::ondemand: return "ondemand";
  }
  return "static";
}

std::optional<pool_mode> parse_pool_mode(std::string_view text) {
  if (text == "static") return pool_mode::static_size;
  if (text == "dynamic") return pool_mode::dynamic;
  if (text == "ondemand") return pool_mode::ondemand;
  return std::nullopt;
}

void validate(const pool_config& pool, const std::string& where) {
  if (pool.command.empty() || pool.command.front().empty()) {
    fail(where, "the command is empty", "give the program and its arguments");
  }
  if (pool.workers < 1 || pool.workers > max_workers) {
    fail(where, "workers must be from 1 to " + std::to_string(max_workers), "e.g. workers = 4");
  }
  if (pool.mode != pool_mode::static_size) {
    const std::string mode(to_string(pool.mode));
    if (pool.max_workers < 1 || pool.max_workers > max_workers) {
      fail(where, "a " + mode + " pool needs max_workers from 1 to " + std::to_string(max_workers),
           "e.g. max_workers = 16");
    }
    if (pool.mode == pool_mode::dynamic) {
      if (pool.min_spare < 1 || pool.min_spare > pool.max_spare ||
          pool.max_spare > pool.max_workers) {
        fail(where,
             "a dynamic pool needs 1 <= min_spare <= max_spare <= max_workers, got " +
                 std::to_string(pool.min_spare) + ", " + std::to_string(pool.max_spare) + ", " +
                 std::to_string(pool.max_workers),
             "e.g. min_spare = 2, max_spare = 4, max_workers = 16");
      }
      if (pool.start_workers > pool.max_workers) {
        fail(where, "start_workers is above max_workers", "e.g. start_workers = 3");
      }
    }
    if (pool.mode == pool_mode::ondemand && pool.idle_timeout.count() <= 0) {
      fail(where, "idle_timeout must be above 0", "e.g. idle_timeout = \"10s\"");
    }
  }
  if (!pool.chroot.empty() && pool.chroot.front() != '/') {
    fail(where, "chroot '" + pool.chroot + "' is relative", "give an absolute directory");
  }
  if (!pool.chroot.empty() && pool.command.front().front() != '/') {
    fail(where, "with chroot, the program '" + pool.command.front() + "' must be absolute",
         "give its path inside the chroot, e.g. /bin/app");
  }
  if (!pool.chroot.empty() && !pool.chdir.empty() && pool.chdir.front() != '/') {
    fail(where, "with chroot, chdir '" + pool.chdir + "' must be absolute",
         "give a directory inside the chroot");
  }
  const bool unix_pool = pool.listen.type == runtime::endpoint::kind::unix_socket;
  if (pool.socket_mode && (*pool.socket_mode & 0002) != 0 && !pool.allow_world_writable) {
    fail(where,
         "socket_mode 0" + std::to_string((*pool.socket_mode >> 6) & 7) +
             std::to_string((*pool.socket_mode >> 3) & 7) + std::to_string(*pool.socket_mode & 7) +
             " lets every local user connect to the application",
         "use 0660 with socket_group set to the web server's group, or set "
         "allow_world_writable = true if that is really wanted");
  }
  if (!unix_pool && (pool.socket_mode || pool.socket_owner || pool.socket_group)) {
    fail(where, "socket_mode, socket_owner and socket_group apply to unix sockets only",
         "remove them, or listen on unix:PATH");
  }
  if (unix_pool && !pool.allowed_clients.empty()) {
    fail(where,
         "allowed_clients applies to tcp pools only (FastCGI spec 3.2 refuses unix peers "
         "when it is set)",
         "remove it; restrict a unix socket with socket_mode and socket_group");
  }
  for (const std::string& client : pool.allowed_clients) {
    try {
      const runtime::address_allowlist check(client);
      if (check.empty()) throw std::invalid_argument("empty");
    } catch (const std::invalid_argument&) {
      fail(where, "allowed_clients entry '" + client + "' is not a numeric IPv4 or IPv6 address",
           R"(e.g. allowed_clients = ["127.0.0.1", "::1"])");
    }
  }
  for (const std::string& name : pool.env_allow) {
    if (!valid_env_name(name)) {
      fail(where, "env_allow entry '" + name + "' is not an environment variable name",
           "use letters, digits and _");
    }
  }
  if (pool.backoff_initial.count() <= 0 || pool.backoff_max < pool.backoff_initial) {
    fail(where, "backoff_initial must be above 0 and at most backoff_max",
         R"(e.g. backoff_initial = "100ms", backoff_max = "30s")");
  }
  if (pool.min_uptime < std::chrono::milliseconds(100)) {
    // Below it, a worker dying at start would be respawned without the backoff, in a loop.
    fail(where, "min_uptime must be at least 100ms", "e.g. min_uptime = \"1s\"");
  }
  if (pool.graceful_timeout > std::chrono::hours(24)) {
    fail(where, "graceful_timeout is more than a day", "e.g. graceful_timeout = \"30s\"");
  }
}

void validate_all(const std::vector<pool_config>& pools) {
  std::set<std::string> names;
  std::set<std::string> endpoints;
  for (const pool_config& pool : pools) {
    if (!names.insert(pool.name).second) {
      throw config_error("pool '" + pool.name + "' is defined twice; give each pool its own name");
    }
    if (!endpoints.insert(pool.listen.to_string()).second) {
      throw config_error("pool '" + pool.name + "' listens on " + pool.listen.to_string() +
                         ", as another pool does; give each pool its own endpoint");
    }
  }
}

void check_privileges(const pool_config& pool, bool manager_is_root, bool allow_root) {
  const bool as_root = !pool.user || *pool.user == "root" || *pool.user == "0";
  if (pool.user && !manager_is_root && !as_root) {
    throw config_error("pool " + pool.name + ": user = \"" + *pool.user +
                       "\" needs fcgi-pm to run as root; start it as root, or remove user "
                       "(the workers then run as the manager's user)");
  }
  if (manager_is_root && as_root && !allow_root) {
    throw config_error("pool " + pool.name +
                       ": the workers would run as root; set user (e.g. user = \"www-data\", "
                       "--user www-data) or, if that is really wanted, start fcgi-pm with "
                       "--allow-root");
  }
}

std::vector<pool_config> parse_config(std::string_view text, const std::string& source_name) {
  toml::table root;
  try {
    root = toml::parse(text, source_name);
  } catch (const toml::parse_error& e) {
    const auto& where = e.source().begin;
    throw config_error(source_name + ":" + std::to_string(where.line) + ":" +
                       std::to_string(where.column) + ": " + std::string(e.description()) +
                       "; fix the TOML syntax there");
  }
  std::vector<pool_config> pools;
  for (const auto& [key_node, node] : root) {
    const std::string key(key_node.str());
    const std::string where = locate(source_name, node.source(), key);
    if (key == "status_listen") {
      const auto* value = node.as_string();
      if (value == nullptr)
        fail(where, "must be a string", "e.g. status_listen = \"unix:/run/fcgi-pm-status.sock\"");
      try {
        runtime::parse_endpoint(value->get());
      } catch (const std::invalid_argument& e) {
        fail(where, e.what(), "");
      }
      continue;
    }
    if (key != "pool") {
      fail(where, "unknown top-level key",
           "the top-level keys are status_listen and the [pool.NAME] tables");
    }
    const auto* pool_tables = node.as_table();
    if (pool_tables == nullptr) fail(where, "must be a table", "write [pool.NAME] tables");
    // toml++ keeps keys sorted; pools start in the order the file lists them.
    std::vector<std::pair<const toml::key*, const toml::node*>> in_file_order;
    for (const auto& [name_node, pool_node] : *pool_tables) {
      in_file_order.emplace_back(&name_node, &pool_node);
    }
    std::stable_sort(in_file_order.begin(), in_file_order.end(), [](const auto& a, const auto& b) {
      return a.second->source().begin.line < b.second->source().begin.line;
    });
    for (const auto& [name_key, pool_node_pointer] : in_file_order) {
      const toml::node& pool_node = *pool_node_pointer;
      const std::string name(name_key->str());
      const std::string pool_where = locate(source_name, pool_node.source(), "pool." + name);
      const auto* table = pool_node.as_table();
      if (table == nullptr) fail(pool_where, "must be a table", "write [pool." + name + "]");
      pools.push_back(pool_reader(source_name, name).read(*table));
    }
  }
  if (pools.empty()) {
    throw config_error(source_name +
                       ": no pool defined; add a [pool.NAME] table with listen and "
                       "command (docs/fcgi-pm.md)");
  }
  try {
    validate_all(pools);
  } catch (const config_error& e) {
    throw config_error(source_name + ": " + e.what());
  }
  return pools;
}

std::optional<int> parse_signal(std::string_view text) {
  if (text.starts_with("SIG")) text.remove_prefix(3);
  static constexpr std::array<std::pair<std::string_view, int>, 7> names{{{"TERM", SIGTERM},
                                                                          {"QUIT", SIGQUIT},
                                                                          {"INT", SIGINT},
                                                                          {"HUP", SIGHUP},
                                                                          {"USR1", SIGUSR1},
                                                                          {"USR2", SIGUSR2},
                                                                          {"WINCH", SIGWINCH}}};
  for (const auto& [name, number] : names) {
    if (text == name) return number;
  }
  return std::nullopt;
}

std::string load_status_listen(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw config_error(path + ": cannot read the config file: " + std::strerror(errno));
  }
  std::stringstream text;
  text << in.rdbuf();
  parse_config(text.str(), path);  // the same checks, the same messages
  const toml::table root = toml::parse(text.str(), path);
  const auto* value = root["status_listen"].as_string();
  return value != nullptr ? value->get() : std::string();
}

std::vector<pool_config> load_config_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw config_error(path + ": cannot read the config file: " + std::strerror(errno));
  }
  std::stringstream text;
  text << in.rdbuf();
  return parse_config(text.str(), path);
}

}  // namespace fcgi::pm
