// fcgi-bench end to end: the built binary against the examples/hello application on a unix
// socket, as a user runs it. Every wait has a deadline; the suite takes a few seconds.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include <fcgi/test/tool_process.hpp>

namespace {

using namespace std::chrono_literals;
using json = nlohmann::json;
using steady = std::chrono::steady_clock;

std::filesystem::path make_temp_dir() {
  std::string pattern =
      (std::filesystem::temp_directory_path() / "fcgi-bench-test-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) ADD_FAILURE() << "mkdtemp failed";
  return pattern;
}

pid_t spawn(const std::vector<std::string>& argv, int out_fd, int err_fd) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    if (out_fd >= 0) ::dup2(out_fd, STDOUT_FILENO);
    if (err_fd >= 0) ::dup2(err_fd, STDERR_FILENO);
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));  // NOLINT
    args.push_back(nullptr);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  return pid;
}

/// examples/hello listening on a unix socket in a fresh directory; killed at the end.
class hello_app {
 public:
  hello_app() : dir_(make_temp_dir()), socket_(dir_ / "hello.sock") {
    const int null_fd = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
    pid_ = spawn({FCGI_EXAMPLE_HELLO, "--listen", "unix:" + socket_.string()}, null_fd, null_fd);
    ::close(null_fd);
    const steady::time_point deadline = steady::now() + 10s;
    while (!std::filesystem::exists(socket_) && steady::now() < deadline)
      std::this_thread::sleep_for(10ms);
    EXPECT_TRUE(std::filesystem::exists(socket_)) << "hello did not listen within 10 s";
  }
  ~hello_app() {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    std::filesystem::remove_all(dir_);
  }
  hello_app(const hello_app&) = delete;
  hello_app& operator=(const hello_app&) = delete;

  [[nodiscard]] std::string endpoint() const { return "unix:" + socket_.string(); }
  [[nodiscard]] const std::filesystem::path& dir() const { return dir_; }

 private:
  std::filesystem::path dir_;
  std::filesystem::path socket_;
  pid_t pid_ = -1;
};

using fcgi::test::tool_run;

/// Runs fcgi-bench with `args`; a run past `deadline` is a failure (status -1).
tool_run run_bench(const std::vector<std::string>& args, std::chrono::seconds deadline = 20s) {
  std::vector<std::string> argv{FCGI_BENCH_TOOL};
  argv.insert(argv.end(), args.begin(), args.end());
  tool_run run = fcgi::test::run_tool(argv, {}, deadline);
  if (run.timed_out) {
    ADD_FAILURE() << "fcgi-bench still ran after " << deadline.count() << " s";
    run.status = -1;
  }
  return run;
}

json parse_report(const tool_run& run) {
  try {
    return json::parse(run.out);
  } catch (const json::exception& e) {
    ADD_FAILURE() << "stdout is not JSON (" << e.what() << "):\n" << run.out << "\n" << run.err;
    return json::object();
  }
}

void expect_ordered_percentiles(const json& latency) {
  const auto at = [&](const char* key) { return latency.at(key).get<std::uint64_t>(); };
  EXPECT_GT(at("min"), 0U);
  EXPECT_LE(at("min"), at("p50"));
  EXPECT_LE(at("p50"), at("p90"));
  EXPECT_LE(at("p90"), at("p99"));
  EXPECT_LE(at("p99"), at("p99_9"));
  EXPECT_LE(at("p99_9"), at("max"));
}

TEST(bench_tool, closed_loop_counts_every_request) {
  const hello_app app;
  // -H and -p take one value each: the ENDPOINT after them stays the ENDPOINT.
  const tool_run run = run_bench(
      {"-n", "2000", "-c", "8", "--json", "-H", "X-Bench: 1", "-p", "A=1", app.endpoint()});
  ASSERT_EQ(run.status, 0) << run.err;
  const json report = parse_report(run);
  EXPECT_EQ(report["mode"], "closed");
  EXPECT_EQ(report["requests"]["total"], 2000);
  EXPECT_EQ(report["requests"]["ok"], 2000);
  EXPECT_EQ(report["requests"]["failed"], 0);
  EXPECT_TRUE(report["errors"].empty()) << report["errors"];
  EXPECT_EQ(report["status"]["2xx"], 2000);
  const auto stdout_bytes = report["bytes"]["stdout"].get<std::uint64_t>();
  EXPECT_EQ(stdout_bytes % 2000, 0U) << "every response counted whole, once";
  EXPECT_GT(stdout_bytes, 2000U * 14);  // a head and "Hello, world!\n" each
  EXPECT_GT(report["requests_per_second"].get<double>(), 0.0);
  EXPECT_EQ(report["latency_ns"]["count"], 2000);
  expect_ordered_percentiles(report["latency_ns"]);
}

TEST(bench_tool, open_loop_keeps_the_schedule) {
  const hello_app app;
  const tool_run run =
      run_bench({"-R", "500", "-d", "1s", "-c", "16", "--json", app.endpoint(), "/hello"});
  ASSERT_EQ(run.status, 0) << run.err;
  const json report = parse_report(run);
  EXPECT_EQ(report["mode"], "open");
  const json& schedule = report["open_loop"];
  // 1 s at one request every 2 ms.
  EXPECT_EQ(schedule["scheduled"], 500);
  EXPECT_EQ(report["requests"]["total"].get<int>() + schedule["missed"].get<int>(), 500);
  EXPECT_GT(report["requests"]["ok"].get<int>(), 0);
  EXPECT_EQ(report["requests"]["failed"], 0);
  EXPECT_GE(report["duration_s"].get<double>(), 1.0);
  expect_ordered_percentiles(report["latency_ns"]);
}

TEST(bench_tool, multiplexed_on_one_connection) {
  const hello_app app;
  const tool_run run = run_bench(
      {"-n", "1000", "-c", "64", "--conns", "1", "--mpx", "on", "--json", app.endpoint()});
  ASSERT_EQ(run.status, 0) << run.err;
  const json report = parse_report(run);
  EXPECT_EQ(report["requests"]["ok"], 1000);
  EXPECT_EQ(report["pool"]["multiplexing"], true);
  EXPECT_EQ(report["pool"]["connections_opened"], 1);
}

TEST(bench_tool, text_report_for_people) {
  const hello_app app;
  const tool_run run = run_bench({"-n", "200", "-c", "4", "--mpx", "off", app.endpoint()});
  ASSERT_EQ(run.status, 0) << run.err;
  for (const char* text : {"closed loop, 4 in flight", "req/s", "2xx 200", "failed      none",
                           "p99.9", "multiplexing off"})
    EXPECT_NE(run.out.find(text), std::string::npos) << text << " in:\n" << run.out;
  EXPECT_EQ(run.err, "") << "no progress line when stderr is not a terminal";
}

TEST(bench_tool, nobody_listening_exits_3_with_the_reason) {
  const std::filesystem::path dir = make_temp_dir();
  const std::string endpoint = "unix:" + (dir / "nobody.sock").string();
  const tool_run run = run_bench({"-d", "1s", endpoint});
  std::filesystem::remove_all(dir);
  EXPECT_EQ(run.status, 3);
  EXPECT_EQ(run.out, "");
  EXPECT_NE(run.err.find("cannot reach the application"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find(endpoint), std::string::npos) << run.err;
}

TEST(bench_tool, bad_command_line_exits_2) {
  EXPECT_EQ(run_bench({"-d", "5x", "unix:/nonexistent.sock"}).status, 2);
  EXPECT_EQ(run_bench({"--mpx", "sometimes", "unix:/nonexistent.sock"}).status, 2);
  EXPECT_EQ(run_bench({"-t", "4", "-c", "2", "unix:/nonexistent.sock"}).status, 2);
  const tool_run help = run_bench({"--help"});
  EXPECT_EQ(help.status, 0);
  EXPECT_NE(help.out.find("Usage: fcgi-bench [OPTIONS] ENDPOINT [TARGET]"), std::string::npos);
}

}  // namespace
