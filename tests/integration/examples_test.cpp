// The example applications, started the ways FastCGI applications are started: with the
// listening socket on fd 0 (web servers, spawn-fcgi, fcgi-pm), with --listen, and as plain CGI.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "harness.hpp"

namespace fcgi::test {
namespace {

using protocol::role;

/// An example process serving a listening socket on its fd 0, stopped with SIGTERM.
class spawned_app {
 public:
  explicit spawned_app(const std::string& program, std::vector<std::string> args = {})
      : where_(listener::unix_socket()) {
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(where_.fd, STDIN_FILENO);
      std::vector<char*> argv;
      argv.push_back(const_cast<char*>(program.c_str()));  // NOLINT: execv's signature
      for (std::string& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(program.c_str(), argv.data());
      ::_exit(127);
    }
    ::close(where_.fd);
  }
  ~spawned_app() {
    if (pid_ > 0) stop();
    std::filesystem::remove_all(std::filesystem::path(where_.unix_path).parent_path());
  }
  spawned_app(const spawned_app&) = delete;
  spawned_app& operator=(const spawned_app&) = delete;

  [[nodiscard]] int connect() const {
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::strncpy(address.sun_path, where_.unix_path.c_str(), sizeof(address.sun_path) - 1);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {  // NOLINT
      ADD_FAILURE() << "connect: " << std::strerror(errno);
    }
    timeval tv{10, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    return fd;
  }
  /// SIGTERM, then the exit status (graceful stop exits 0).
  int stop() {
    ::kill(pid_, SIGTERM);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }

 private:
  listener where_;
  pid_t pid_ = -1;
};

request_spec get(std::string_view uri) {
  return {role::responder, true, cgi_params("GET", uri), {}, {}};
}

/// Runs `program` as a CGI program with `env` and `stdin_text`; returns its stdout.
std::string run_as_cgi(const std::string& program, const std::vector<std::string>& env,
                       const std::string& stdin_text, int* exit_status) {
  int in[2];   // NOLINT(modernize-avoid-c-arrays)
  int out[2];  // NOLINT(modernize-avoid-c-arrays)
  EXPECT_EQ(::pipe(in), 0);
  EXPECT_EQ(::pipe(out), 0);
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(in[0], STDIN_FILENO);
    ::dup2(out[1], STDOUT_FILENO);
    ::close(in[1]);
    ::close(out[0]);
    std::vector<char*> envp;
    std::vector<std::string> copy = env;
    for (std::string& e : copy) envp.push_back(e.data());
    envp.push_back(nullptr);
    char* argv[] = {const_cast<char*>(program.c_str()), nullptr};  // NOLINT
    ::execve(program.c_str(), argv, envp.data());
    ::_exit(127);
  }
  ::close(in[0]);
  ::close(out[1]);
  EXPECT_EQ(::write(in[1], stdin_text.data(), stdin_text.size()),
            static_cast<ssize_t>(stdin_text.size()));
  ::close(in[1]);
  std::string result;
  std::array<char, 4096> buffer{};
  for (ssize_t n; (n = ::read(out[0], buffer.data(), buffer.size())) > 0;) {
    result.append(buffer.data(), static_cast<std::size_t>(n));
  }
  ::close(out[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  *exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

TEST(examples, hello_serves_its_fd_0_socket_and_stops_cleanly_on_sigterm) {
  spawned_app app(FCGI_EXAMPLE_HELLO);
  client c(app.connect());
  const reply r = c.call(get("/"));
  ASSERT_TRUE(r.ended);
  EXPECT_EQ(r.stdout_bytes,
            "Content-Type: text/plain\r\nContent-Length: 14\r\n\r\nHello, world!\n");
  EXPECT_EQ(app.stop(), 0);
}

TEST(examples, counter_counts_because_the_process_persists) {
  spawned_app app(FCGI_EXAMPLE_COUNTER);
  client c(app.connect());
  EXPECT_EQ(c.call(get("/")).body().rfind("Request number 1 ", 0), 0U);
  EXPECT_EQ(c.call(get("/")).body().rfind("Request number 2 ", 0), 0U);
  client other(app.connect());
  EXPECT_EQ(other.call(get("/")).body().rfind("Request number 3 ", 0), 0U);
}

TEST(examples, echo_lists_params_then_the_body) {
  spawned_app app(FCGI_EXAMPLE_ECHO);
  client c(app.connect());
  request_spec spec{role::responder,
                    true,
                    {{"REQUEST_METHOD", "POST"}, {"CONTENT_LENGTH", "4"}, {"X", "1"}},
                    "data",
                    {}};
  const reply r = c.call(spec);
  EXPECT_EQ(r.stdout_bytes,
            "Content-Type: text/plain\r\n\r\nREQUEST_METHOD=POST\nCONTENT_LENGTH=4\nX=1\ndata");
}

TEST(examples, echo_size_answers_the_exact_pattern) {
  spawned_app app(FCGI_EXAMPLE_ECHO);
  client c(app.connect());
  const reply r = c.call(get("/?size=100000"));
  const std::string body = r.body();
  ASSERT_EQ(body.size(), 100000U);
  for (std::size_t i = 0; i < body.size(); ++i) {
    ASSERT_EQ(static_cast<unsigned char>(body[i]), i % 251) << i;
  }
  EXPECT_NE(r.head().find("Content-Length: 100000\r\n"), std::string::npos);
}

TEST(examples, echo_authorizer_allows_and_filter_concatenates) {
  spawned_app app(FCGI_EXAMPLE_ECHO);
  client c(app.connect());
  request_spec auth{role::authorizer, true, cgi_params("GET", "/secret"), {}, {}};
  EXPECT_EQ(c.call(auth).stdout_bytes, "Variable-ECHO-AUTHORIZED: yes\r\n\r\n");
  request_spec filter{role::filter, true, cgi_params("GET", "/f"), "in-", "data"};
  EXPECT_EQ(c.call(filter).body(), "in-data");
}

TEST(examples, the_same_binary_runs_as_a_cgi_program) {
  int status = -1;
  const std::string out = run_as_cgi(
      FCGI_EXAMPLE_ECHO, {"GATEWAY_INTERFACE=CGI/1.1", "REQUEST_METHOD=POST", "CONTENT_LENGTH=3"},
      "abcdef", &status);
  EXPECT_EQ(status, 0);
  // RFC 3875 4.2: exactly CONTENT_LENGTH bytes of stdin are the body.
  EXPECT_EQ(out.substr(out.size() - 3), "abc");
  EXPECT_EQ(out.rfind("Content-Type: text/plain\r\n\r\n", 0), 0U);
  const std::string hello = run_as_cgi(FCGI_EXAMPLE_HELLO, {"REQUEST_METHOD=GET"}, "", &status);
  EXPECT_EQ(hello, "Content-Type: text/plain\r\nContent-Length: 14\r\n\r\nHello, world!\n");
}

TEST(examples, without_any_socket_the_app_says_how_to_start_it) {
  int status = -1;
  const std::string out = run_as_cgi(FCGI_EXAMPLE_HELLO, {}, "", &status);
  EXPECT_EQ(status, 1);  // a clean exit with the reason on stderr, not an abort
  EXPECT_EQ(out, "");
}

}  // namespace
}  // namespace fcgi::test
