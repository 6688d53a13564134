// fcgi-call end to end: the built binary against an in-process fcgi::server and scripted
// hostile applications; checks what it prints and every exit status it documents.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <fcgi/test/tool_process.hpp>

#include "harness.hpp"
#include "scripted_app.hpp"

namespace fcgi::test {
namespace {

using namespace std::chrono_literals;

/// Runs fcgi-call with `args`, feeding `input` on its stdin.
tool_run run_call(const std::vector<std::string>& args, const std::string& input = {}) {
  std::vector<std::string> argv{FCGI_CALL_TOOL};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_tool(argv, input);
}

void app_routes(server& app) {
  app.responder([](request& req, response& res) {
    const std::string_view path = req.script_name();
    if (path == "/missing") {
      res.status(404);
      res.header("Content-Type", "text/plain");
      res.write("no such thing\n");
    } else if (path == "/stderr") {
      res.header("Content-Type", "text/plain");
      res.error_log("careful");
      res.write("ok\n");
    } else if (path == "/escape") {
      res.header("Content-Type", "text/plain");
      res.error_log("\x1b[2Jred\r\tline\n");
      res.write("ok\n");
    } else if (path == "/throw") {
      throw std::runtime_error("boom");
    } else {
      res.header("Content-Type", "text/plain");
      res.write(std::string(req.method()) + " " + std::string(req.query_string()) + " " +
                std::string(req.param("HTTP_X_TEST", "-")) + " " +
                std::to_string(req.body().size()) + "\n");
    }
  });
  app.authorizer([](request& req, response& res) {
    if (req.param("HTTP_AUTHORIZATION") == "Bearer ok") {
      res.header("Variable-USER", "alice");
      return;
    }
    res.status(403);
    res.header("Content-Type", "text/plain");
    res.write("denied\n");
  });
  app.filter([](request& req, response& res) {
    res.header("Content-Type", "text/plain");
    res.write(req.body());
    res.write("|");
    res.write(req.data());
  });
}

class fcgi_call_tool : public ::testing::Test {
 protected:
  fcgi_call_tool() : app_(quiet(), app_routes) {}
  static server_config quiet() {
    server_config c;
    c.log = [](std::string_view) {};
    return c;
  }
  std::string endpoint() const { return "unix:" + app_.where().unix_path; }
  running_server app_;
};

TEST_F(fcgi_call_tool, get_prints_the_body_only) {
  const tool_run r = run_call({endpoint(), "/x?a=1", "-H", "X-Test: yes"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "GET a=1 yes 0\n");
}

TEST_F(fcgi_call_tool, include_prints_the_head) {
  const tool_run r = run_call({"-i", endpoint(), "/x"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out.rfind("Content-Type: text/plain\r\n", 0), 0U) << r.out;
  EXPECT_NE(r.out.find("\r\n\r\nGET"), std::string::npos);
}

TEST_F(fcgi_call_tool, posts_a_file_and_stdin) {
  const std::filesystem::path file =
      std::filesystem::temp_directory_path() / ("fcgi_call_body_" + std::to_string(::getpid()));
  std::ofstream(file) << std::string(100000, 'q');
  const tool_run from_file = run_call({"-d", "@" + file.string(), endpoint(), "/x"});
  std::filesystem::remove(file);
  EXPECT_EQ(from_file.status, 0) << from_file.err;
  EXPECT_EQ(from_file.out, "POST  - 100000\n");
  const tool_run from_stdin = run_call({"-X", "PUT", "-d", "@-", endpoint(), "/x"}, "twelve bytes");
  EXPECT_EQ(from_stdin.status, 0) << from_stdin.err;
  EXPECT_EQ(from_stdin.out, "PUT  - 12\n");
}

TEST_F(fcgi_call_tool, roles) {
  const tool_run allowed =
      run_call({"--role", "authorizer", "-i", "-H", "Authorization: Bearer ok", endpoint(), "/p"});
  EXPECT_EQ(allowed.status, 0) << allowed.err;
  EXPECT_NE(allowed.out.find("Variable-USER: alice"), std::string::npos);
  const tool_run denied = run_call({"--role", "authorizer", endpoint(), "/p"});
  EXPECT_EQ(denied.status, 9);
  EXPECT_NE(denied.err.find("denied"), std::string::npos);
  const tool_run filtered =
      run_call({"--role", "filter", "-d", "in", "--filter-data", "file", endpoint(), "/f"});
  EXPECT_EQ(filtered.status, 0) << filtered.err;
  EXPECT_EQ(filtered.out, "in|file");
}

TEST_F(fcgi_call_tool, exit_statuses_say_what_happened) {
  EXPECT_EQ(run_call({endpoint(), "/missing"}).status, 0);
  const tool_run missing = run_call({"-f", endpoint(), "/missing"});
  EXPECT_EQ(missing.status, 9);
  EXPECT_EQ(missing.out, "no such thing\n");
  const tool_run with_stderr = run_call({endpoint(), "/stderr"});
  EXPECT_EQ(with_stderr.status, 0);
  EXPECT_EQ(with_stderr.err, "careful");
  EXPECT_EQ(run_call({"--stderr", "fail", endpoint(), "/stderr"}).status, 10);
  EXPECT_EQ(run_call({"--stderr", "ignore", endpoint(), "/stderr"}).err, "");
  // An application's STDERR cannot drive the terminal (HOSTILE D-51) unless asked for raw.
  EXPECT_EQ(run_call({endpoint(), "/escape"}).err, "\\x1b[2Jred\\x0d\tline\n");
  EXPECT_EQ(run_call({"--stderr", "raw", endpoint(), "/escape"}).err, "\x1b[2Jred\r\tline\n");
  EXPECT_EQ(run_call({endpoint(), "/throw"}).status, 8);
  const tool_run refused = run_call({"unix:/nonexistent/x.sock"});
  EXPECT_EQ(refused.status, 3);
  EXPECT_NE(refused.err.find("/nonexistent/x.sock"), std::string::npos);
  EXPECT_EQ(run_call({"--bogus-option", endpoint()}).status, 2);
  EXPECT_EQ(run_call({"not-an-endpoint"}).status, 2);
  EXPECT_EQ(run_call({"--filter-data", "x", endpoint()}).status, 2);
}

TEST_F(fcgi_call_tool, get_values_and_verbose_trace) {
  const tool_run values = run_call({"--get-values", endpoint()});
  EXPECT_EQ(values.status, 0) << values.err;
  EXPECT_NE(values.out.find("FCGI_MPXS_CONNS=1\n"), std::string::npos) << values.out;
  const tool_run traced = run_call({"-v", endpoint(), "/x"});
  EXPECT_EQ(traced.status, 0);
  EXPECT_NE(traced.err.find("> BEGIN_REQUEST"), std::string::npos);
  EXPECT_NE(traced.err.find("< END_REQUEST appStatus=0"), std::string::npos);
}

TEST_F(fcgi_call_tool, help_reads_well) {
  const tool_run help = run_call({"--help"});
  EXPECT_EQ(help.status, 0);
  for (const char* expected : {"Usage:", "ENDPOINT", "--role", "Exit status:", "Examples:"})
    EXPECT_NE(help.out.find(expected), std::string::npos) << expected;
}

TEST(fcgi_call_hostile, garbage_timeouts_and_early_close) {
  scripted_app garbage([](int fd, int) {
    if (read_request(fd) != 0) send_all(fd, "HTTP/1.0 200 OK\r\n\r\n");
  });
  EXPECT_EQ(run_call({garbage.endpoint()}).status, 6);

  scripted_app bad_head([](int fd, int) {
    const std::uint16_t id = read_request(fd);
    send_all(fd, raw_record(6, id, "Status: 2000\r\n\r\nbody") + raw_record(6, id, "") +
                     end_request(id));
  });
  const tool_run invalid = run_call({bad_head.endpoint()});
  EXPECT_EQ(invalid.status, 6);
  EXPECT_NE(invalid.err.find("invalid response head"), std::string::npos) << invalid.err;
  EXPECT_EQ(invalid.out, "");  // nothing of an invalid response is passed on (HOSTILE D-47)
  const tool_run raw = run_call({"--raw", bad_head.endpoint()});
  EXPECT_EQ(raw.status, 0);
  EXPECT_EQ(raw.out, "Status: 2000\r\n\r\nbody");

  scripted_app silent([](int fd, int) {
    read_request(fd);
    char byte;
    ::recv(fd, &byte, 1, 0);
  });
  const tool_run slow = run_call({"--first-byte-timeout", "0.2", silent.endpoint()});
  EXPECT_EQ(slow.status, 4);

  scripted_app closer([](int fd, int) {
    const std::uint16_t id = read_request(fd);
    send_all(fd, raw_record(6, id, "Content-Type: text/plain\r\n\r\npartial"));
  });
  const tool_run early = run_call({closer.endpoint()});
  EXPECT_EQ(early.status, 5);
  EXPECT_EQ(early.out, "partial");  // what arrived is shown, and the status says it is cut
}

}  // namespace
}  // namespace fcgi::test
