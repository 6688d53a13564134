// fcgi::client against real FastCGI applications, each started by its test in a temp folder:
// php-fpm running app.php, an fcgi2 (libfcgi) app, a Go net/http/fcgi app and fcgiwrap
// running app.cgi. Every app answers the same three operations (?op=hello, ?op=count,
// ?op=size&n=N), so one suite runs against all four: GET, POST 10 MiB from memory and from a
// file, a 10 MiB response, keep-conn reuse, the GET_VALUES answer, multiplexing, and one
// fcgi-call run. What each app does is recorded in `traits` and in docs/client-interop.md.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <charconv>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include <fcgi/client/async.hpp>
#include <fcgi/client/client.hpp>
#include <fcgi/protocol/cgi_params.hpp>
#include <fcgi/test/tool_process.hpp>

namespace fcgi::interop {
namespace {

namespace asio = boost::asio;
namespace fc = fcgi::client;
namespace fs = std::filesystem;
using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

constexpr std::size_t ten_mib = 10 * 1024 * 1024;

enum class app { php_fpm, fcgi2, go, fcgiwrap };

/// What each application does, as measured (docs/client-interop.md): the tests assert it, so
/// a change in a peer or in the client shows up.
struct traits {
  const char* name;
  const char* package;  ///< the Debian package to install when the peer is missing
  const char* script;   ///< SCRIPT_NAME; SCRIPT_FILENAME is the temp folder + this
  const char* hello;
  bool keeps_connection;  ///< honours FCGI_KEEP_CONN: 20 calls on one connection
  bool multiplexes;       ///< answers FCGI_MPXS_CONNS=1, and the pool then multiplexes
  /// The GET_VALUES_RESULT for MAX_CONNS, MAX_REQS and MPXS_CONNS as "NAME=VALUE;...", or
  /// nothing when the application does not answer a GET_VALUES sent alone.
  std::optional<std::string> values;
};

const traits& traits_of(app a) {
  static const std::array<traits, 4> all{{
      {"php_fpm", "php8.2-fpm", "/app.php", "hello from php\n", true, false, "FCGI_MPXS_CONNS=0;"},
      {"fcgi2", "libfcgi-dev", "/app", "hello from fcgi2\n", true, false, std::nullopt},
      {"go", "golang-go", "/app", "hello from go\n", true, true, "FCGI_MPXS_CONNS=1;"},
      {"fcgiwrap", "fcgiwrap", "/app.cgi", "hello from cgi\n", true, false, std::nullopt},
  }};
  return all.at(static_cast<std::size_t>(a));
}

/// The body of ?op=size&n=N: the 16-byte block repeated, cut at N.
std::string pattern(std::size_t n) {
  static constexpr std::string_view block = "0123456789abcde\n";
  std::string out;
  out.reserve(n);
  while (out.size() < n) out.append(block.substr(0, std::min(block.size(), n - out.size())));
  return out;
}

/// An executable by name in PATH or the sbin folders (php-fpm and fcgiwrap live in
/// /usr/sbin, which a test runner's PATH may lack); empty when absent.
std::string find_program(std::string_view name) {
  std::vector<std::string> dirs;
  if (const char* path = std::getenv("PATH")) {
    std::stringstream in(path);
    for (std::string dir; std::getline(in, dir, ':');) dirs.push_back(dir);
  }
  for (const char* dir : {"/usr/sbin", "/usr/bin", "/sbin", "/bin"}) dirs.emplace_back(dir);
  for (const std::string& dir : dirs) {
    const std::string candidate = dir + "/" + std::string(name);
    if (!dir.empty() && ::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return {};
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

sockaddr_un unix_address(const std::string& path) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strncpy(address.sun_path, path.c_str(), sizeof address.sun_path - 1);
  return address;
}

/// A unix socket listening at `path` (backlog 128), for an app that takes it as fd 0.
int listen_unix(const std::string& path) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const sockaddr_un address = unix_address(path);
  if (fd < 0 ||
      ::bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0 ||  // NOLINT
      ::listen(fd, 128) != 0) {
    if (fd >= 0) ::close(fd);
    return -1;
  }
  return fd;
}

bool connectable(const std::string& path) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const sockaddr_un address = unix_address(path);
  const bool ok =
      ::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0;  // NOLINT
  ::close(fd);
  return ok;
}

/// A peer in a session of its own, so that stopping it reaches its children too (php-fpm's
/// workers, fcgiwrap's CGI processes): TERM to the group, KILL after 3 s, then reaped.
/// stdout and stderr go to `log`; fd 0 is `listener` (the FastCGI convention) or /dev/null.
class peer_process {
 public:
  peer_process(const std::vector<std::string>& argv, const std::string& log, int listener) {
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));  // NOLINT
    args.push_back(nullptr);
    const int out = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    const int null = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    pid_ = ::fork();
    if (pid_ == 0) {
      ::setsid();
      ::dup2(listener >= 0 ? listener : null, 0);
      ::dup2(out, 1);
      ::dup2(out, 2);
      ::execv(args[0], args.data());
      ::_exit(127);
    }
    ::close(out);
    ::close(null);
  }
  ~peer_process() {
    if (pid_ <= 0) return;
    ::kill(-pid_, SIGTERM);
    const auto deadline = clock_type::now() + 3s;
    while (clock_type::now() < deadline && ::waitpid(pid_, nullptr, WNOHANG) == 0)
      std::this_thread::sleep_for(10ms);
    ::kill(-pid_, SIGKILL);  // stragglers of the group; harmless when all are gone
    ::waitpid(pid_, nullptr, 0);
  }
  peer_process(const peer_process&) = delete;
  peer_process& operator=(const peer_process&) = delete;

  [[nodiscard]] bool running() const { return pid_ > 0 && ::kill(pid_, 0) == 0; }

 private:
  pid_t pid_ = -1;
};

/// What a CGI response head says, and the body after it.
struct http_answer {
  bool valid = false;
  unsigned status = 0;
  std::string body;
};

http_answer parse_answer(const fc::response& r) {
  const protocol::result<fc::parsed_response> parsed = fc::parse_response(r);
  if (!parsed) return {};
  return {true, parsed.value().head.status(), std::string(parsed.value().body)};
}

using fcgi::test::run_tool;
using fcgi::test::tool_run;

/// Timeouts that turn any hang into a failure well inside the test's budget.
fc::pool_settings bounded(fc::pool_settings s = {}) {
  s.timeouts.connect = 5s;
  s.timeouts.first_byte = 10s;
  s.timeouts.idle = 10s;
  s.timeouts.total = 20s;
  return s;
}

class client_interop : public ::testing::TestWithParam<app> {
 public:
  void SetUp() override {
    std::string dir_template = (fs::temp_directory_path() / "fcgi-ci.XXXXXX").string();
    ASSERT_NE(::mkdtemp(dir_template.data()), nullptr);
    dir_ = dir_template;
    ::chmod(dir_.c_str(), 0755);
    socket_ = (dir_ / "app.sock").string();
    switch (GetParam()) {
      case app::php_fpm: start_php_fpm(); break;
      case app::fcgi2: start_on_fd0(fcgi2_app_path()); break;
      case app::go: start_on_fd0(go_app_path()); break;
      case app::fcgiwrap: start_fcgiwrap(); break;
    }
  }

  void TearDown() override {
    peer_.reset();
    if (dir_.empty()) return;
    if (HasFailure()) {
      std::printf("kept %s (configs, logs)\n", dir_.c_str());
    } else {
      std::error_code ignored;
      fs::remove_all(dir_, ignored);
    }
  }

  const traits& app_traits() const { return traits_of(GetParam()); }
  std::string endpoint() const { return "unix:" + socket_; }
  std::string script_filename() const { return dir_.string() + app_traits().script; }
  const fs::path& dir() const { return dir_; }

  /// A request to the app's script: `query` selects the operation; a body sets
  /// CONTENT_LENGTH (php-fpm and fcgiwrap read exactly that much).
  fc::request make_request(const std::string& query, fc::body_source body = {}) const {
    protocol::cgi_request http;
    http.method = body.type() == fc::body_source::kind::empty ? "GET" : "POST";
    http.target = std::string(app_traits().script) + "?" + query;
    http.script_name = app_traits().script;
    http.document_root = dir_.string();
    if (body.type() != fc::body_source::kind::empty) {
      http.content_length = static_cast<std::uint64_t>(body.known_size());
      http.headers.push_back({"Content-Type", "application/octet-stream"});
    }
    const protocol::result<fc::request> built = fc::http_request(http, std::move(body));
    EXPECT_TRUE(built.has_value()) << protocol::describe(built.error());
    return built ? built.value() : fc::request{};
  }

  /// Calls `r` and checks END_REQUEST{REQUEST_COMPLETE}, appStatus 0 and a 200 head.
  static http_answer expect_ok(fc::client& c, const fc::request& r) {
    const fc::response resp = c.call(r);
    EXPECT_TRUE(resp.ok()) << fc::to_string(static_cast<fc::errc>(resp.error.value())) << ": "
                           << resp.detail << "\n"
                           << resp.err;
    EXPECT_TRUE(resp.ended);
    EXPECT_EQ(resp.app_status, 0U);
    EXPECT_EQ(resp.err, "");  // no warning from the application either
    http_answer answer = parse_answer(resp);
    EXPECT_TRUE(answer.valid) << resp.out.substr(0, 200);
    EXPECT_EQ(answer.status, 200U) << resp.out.substr(0, 200);
    return answer;
  }

 private:
  static const char* fcgi2_app_path() {
#ifdef FCGI_INTEROP_FCGI2_APP
    return FCGI_INTEROP_FCGI2_APP;
#else
    return nullptr;
#endif
  }
  static const char* go_app_path() {
#ifdef FCGI_INTEROP_GO_APP
    return FCGI_INTEROP_GO_APP;
#else
    return nullptr;
#endif
  }

  void copy_source(const char* name, fs::perms perms) {
    const fs::path to = dir_ / name;
    fs::copy_file(fs::path(FCGI_INTEROP_SOURCE_DIR) / name, to);
    fs::permissions(to, perms);
  }

  /// Starts a built app on the listening socket as its fd 0, or skips naming the package
  /// to install (the app is not built without it).
  void start_on_fd0(const char* program) {
    if (program == nullptr || ::access(program, X_OK) != 0)
      GTEST_SKIP() << "not built: install " << app_traits().package << " and reconfigure";
    const int listener = listen_unix(socket_);
    ASSERT_GE(listener, 0) << socket_ << ": " << std::strerror(errno);
    peer_ = std::make_unique<peer_process>(std::vector<std::string>{std::string(program)},
                                           (dir_ / "app.log").string(), listener);
    ::close(listener);
  }

  void start_php_fpm() {
    std::string fpm = find_program("php-fpm8.2");
    if (fpm.empty()) fpm = find_program("php-fpm");
    if (fpm.empty()) GTEST_SKIP() << "php-fpm is not installed (Debian: php8.2-fpm)";
    copy_source("app.php", fs::perms(0644));
    const fs::path conf = dir_ / "fpm.conf";
    std::ofstream(conf) << "[global]\n"
                        << "pid = " << (dir_ / "fpm.pid").string() << "\n"
                        << "error_log = " << (dir_ / "fpm.log").string() << "\n"
                        << "daemonize = no\n"
                        << "[app]\n"
                        << "listen = " << socket_ << "\n"
                        << "pm = static\n"
                        << "pm.max_children = 2\n"
                        // Above PHP's default 8M, which warns on STDERR about a 10 MiB body.
                        << "php_admin_value[post_max_size] = 64M\n";
    std::vector<std::string> argv{fpm, "-F", "-y", conf.string(), "-p", dir_.string()};
    if (::geteuid() == 0) argv.insert(argv.begin() + 2, "-R");  // allow running as root
    start_listening_itself(argv);
  }

  void start_fcgiwrap() {
    const std::string wrap = find_program("fcgiwrap");
    if (wrap.empty()) GTEST_SKIP() << "fcgiwrap is not installed (Debian: fcgiwrap)";
    copy_source("app.cgi", fs::perms(0755));
    start_listening_itself({wrap, "-c", "1", "-s", "unix:" + socket_});
  }

  /// Starts a peer that binds the socket itself and waits (10 s at most) until it accepts.
  void start_listening_itself(const std::vector<std::string>& argv) {
    peer_ = std::make_unique<peer_process>(argv, (dir_ / "app.log").string(), -1);
    const auto deadline = clock_type::now() + 10s;
    while (!connectable(socket_)) {
      ASSERT_TRUE(peer_->running()) << argv[0] << " exited:\n" << read_file(dir_ / "app.log");
      ASSERT_LT(clock_type::now(), deadline) << argv[0] << " did not listen within 10 s:\n"
                                             << read_file(dir_ / "app.log");
      std::this_thread::sleep_for(10ms);
    }
  }

  fs::path dir_;
  std::string socket_;
  std::unique_ptr<peer_process> peer_;
};

TEST_P(client_interop, get) {
  fc::client c(endpoint(), bounded());
  EXPECT_EQ(expect_ok(c, make_request("op=hello")).body, app_traits().hello);
}

TEST_P(client_interop, post_10_mib_from_memory) {
  const std::string body = pattern(ten_mib);
  fc::client c(endpoint(), bounded());
  const http_answer a = expect_ok(c, make_request("op=count", fc::body_source::from_view(body)));
  EXPECT_EQ(a.body, std::to_string(ten_mib) + "\n");
}

TEST_P(client_interop, post_10_mib_from_file) {
  const fs::path file = dir() / "upload.bin";
  std::ofstream(file, std::ios::binary) << pattern(ten_mib);
  fc::client c(endpoint(), bounded());
  const http_answer a =
      expect_ok(c, make_request("op=count", fc::body_source::from_file(file.string())));
  EXPECT_EQ(a.body, std::to_string(ten_mib) + "\n");
}

TEST_P(client_interop, response_10_mib) {
  fc::client c(endpoint(), bounded());
  const http_answer a = expect_ok(c, make_request("op=size&n=" + std::to_string(ten_mib)));
  EXPECT_EQ(a.body.size(), ten_mib);
  EXPECT_TRUE(a.body == pattern(ten_mib)) << "the 10 MiB body differs from the pattern";
}

TEST_P(client_interop, keep_conn_20_calls) {
  fc::client c(endpoint(), bounded());
  for (int i = 0; i < 20; ++i) {
    const fc::response r = c.call(make_request("op=hello"));
    ASSERT_TRUE(r.ok()) << "call " << i << ": " << r.detail;
    EXPECT_EQ(parse_answer(r).body, app_traits().hello);
  }
  const fc::pool_stats s = c.stats();
  if (app_traits().keeps_connection) {
    EXPECT_EQ(s.connections_opened, 1U);
    EXPECT_EQ(s.connections_reused, 19U);
  } else {
    EXPECT_EQ(s.connections_opened, 20U);
    EXPECT_EQ(s.connections_reused, 0U);
  }
}

std::string values_text(const std::vector<std::pair<std::string, std::string>>& values) {
  std::string text;
  for (const auto& [name, value] : values) text += name + "=" + value + ";";
  return text;
}

TEST_P(client_interop, get_values_answer) {
  fc::client c(endpoint(), bounded());
  const auto started = clock_type::now();
  const fc::values_answer v =
      c.get_values({"FCGI_MAX_CONNS", "FCGI_MAX_REQS", "FCGI_MPXS_CONNS"}, 500ms);
  const auto took = clock_type::now() - started;
  if (app_traits().values) {
    ASSERT_FALSE(v.error) << v.detail;
    EXPECT_EQ(values_text(v.values), *app_traits().values);
    EXPECT_LT(took, 500ms);
  } else {
    // No answer to a GET_VALUES sent alone: the query gives up at its timeout, no later.
    EXPECT_EQ(v.error, fc::errc::idle_timeout) << values_text(v.values);
    EXPECT_GE(took, 500ms);
    EXPECT_LT(took, 1500ms);
  }
}

TEST_P(client_interop, probe_decides_multiplexing_without_stalling) {
  fc::pool_settings s = bounded();
  s.probe_timeout = 250ms;
  fc::client c(endpoint(), s);
  const auto started = clock_type::now();
  EXPECT_EQ(expect_ok(c, make_request("op=hello")).body, app_traits().hello);
  const auto took = clock_type::now() - started;
  EXPECT_LT(took, s.probe_timeout + 1s);  // the probe costs at most its timeout
  const fc::pool_stats stats = c.stats();
  EXPECT_TRUE(stats.probed);
  EXPECT_EQ(stats.probe_answered, app_traits().values.has_value());
  EXPECT_EQ(stats.multiplexing, app_traits().multiplexes);
}

/// The highest request id in a trace line ("[N] > BEGIN_REQUEST ..."): above 1 only when
/// requests shared a connection at the same time.
std::uint16_t request_id_of(std::string_view line) {
  if (!line.starts_with("[")) return 0;
  std::uint16_t id = 0;
  std::from_chars(line.data() + 1, line.data() + line.size(), id);
  return id;
}

/// Runs `context` until `finished` is set, 30 s at most.
void run_until(asio::io_context& context, const bool& finished) {
  const auto deadline = clock_type::now() + 30s;
  while (!finished && clock_type::now() < deadline) context.run_one_for(100ms);
}

/// Eight POSTs at once through a pool of one connection: a multiplexing app gets them all on
/// that connection together (request ids above 1); the others one after another. Each body
/// has its own size, so a response delivered to the wrong call shows. `warm`: one call
/// first, so the connection is open before the eight start.
void eight_concurrent_posts(client_interop& test, bool warm) {
  asio::io_context context;
  fc::pool_settings s = bounded();
  s.max_connections = 1;
  s.probe_timeout = 250ms;
  std::uint16_t highest_id = 0;
  s.trace = [&](std::string_view line) { highest_id = std::max(highest_id, request_id_of(line)); };
  fc::async_client c(context.get_executor(), test.endpoint(), s);
  std::vector<std::string> bodies;
  for (std::size_t i = 0; i < 8; ++i) bodies.push_back(pattern(100'000 * (i + 1) + i));
  std::vector<fc::request> requests;
  for (const std::string& b : bodies)
    requests.push_back(test.make_request("op=count", fc::body_source::from_view(b)));
  if (warm) {
    bool warmed = false;
    asio::co_spawn(
        context,
        [&]() -> asio::awaitable<void> {
          const fc::response r = co_await c.call(requests[0]);
          EXPECT_TRUE(r.ok()) << r.detail;
          warmed = true;
        },
        asio::detached);
    run_until(context, warmed);
    ASSERT_TRUE(warmed);
  }
  std::vector<std::string> answers(8);
  int done = 0;
  bool all_done = false;
  for (std::size_t i = 0; i < 8; ++i) {
    asio::co_spawn(
        context,
        [&, i]() -> asio::awaitable<void> {
          const fc::response r = co_await c.call(requests[i]);
          answers[i] = r.ok() ? parse_answer(r).body : "error: " + r.detail;
          all_done = ++done == 8;
        },
        asio::detached);
  }
  run_until(context, all_done);
  ASSERT_TRUE(all_done);
  for (std::size_t i = 0; i < 8; ++i)
    EXPECT_EQ(answers[i], std::to_string(bodies[i].size()) + "\n") << "call " << i;
  const fc::pool_stats stats = c.stats();
  const traits& t = test.app_traits();
  EXPECT_EQ(stats.multiplexing, t.multiplexes);
  EXPECT_EQ(stats.connections_opened, t.keeps_connection ? 1U : (warm ? 9U : 8U));
  if (t.multiplexes) {
    EXPECT_GT(highest_id, 1U) << "the eight calls ran one after another";
  } else {
    EXPECT_EQ(highest_id, 1U);
  }
}

TEST_P(client_interop, eight_concurrent_posts_on_an_open_connection) {
  eight_concurrent_posts(*this, true);
}

// Calls that arrive while the pool's only connection is still being opened queue; once it
// opens on a multiplexing app (Go) they must share it, not run one after another with
// request id 1 (a waiter used to be woken only when a request ended).
TEST_P(client_interop, eight_concurrent_posts_from_a_cold_pool) {
  eight_concurrent_posts(*this, false);
}

TEST_P(client_interop, fcgi_call_tool) {
#ifdef FCGI_CALL_TOOL
  const tool_run run = run_tool({FCGI_CALL_TOOL, "--script-filename", script_filename(), endpoint(),
                                 std::string(app_traits().script) + "?op=hello"});
  EXPECT_EQ(run.status, 0) << run.err;
  EXPECT_EQ(run.out, app_traits().hello);
#else
  GTEST_SKIP() << "fcgi-call is not built (FCGI_BUILD_TOOLS=OFF)";
#endif
}

INSTANTIATE_TEST_SUITE_P(apps, client_interop,
                         ::testing::Values(app::php_fpm, app::fcgi2, app::go, app::fcgiwrap),
                         [](const ::testing::TestParamInfo<app>& param_info) {
                           return std::string(traits_of(param_info.param).name);
                         });

}  // namespace
}  // namespace fcgi::interop
