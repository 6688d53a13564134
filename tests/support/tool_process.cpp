#include <fcgi/test/tool_process.hpp>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <fstream>
#include <sstream>
#include <system_error>
#include <thread>

namespace fcgi::test {

namespace {

[[noreturn]] void exec_child(const std::vector<std::string>& argv, int in, int out, int err) {
  ::dup2(in, STDIN_FILENO);
  ::dup2(out, STDOUT_FILENO);
  ::dup2(err, STDERR_FILENO);
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));  // NOLINT
  args.push_back(nullptr);
  ::execv(args[0], args.data());
  ::_exit(127);
}

void feed(int fd, const std::string& input) {
  for (std::size_t sent = 0; sent < input.size();) {
    const ssize_t n = ::write(fd, input.data() + sent, input.size() - sent);
    if (n <= 0) break;
    sent += static_cast<std::size_t>(n);
  }
  ::close(fd);
}

/// Reads both pipes until they close or the deadline passes; false on the deadline.
bool collect(std::array<pollfd, 2>& fds, tool_run& run, std::chrono::seconds deadline) {
  const auto until = std::chrono::steady_clock::now() + deadline;
  int open = 2;
  while (open > 0 && std::chrono::steady_clock::now() < until) {
    if (::poll(fds.data(), fds.size(), 100) <= 0) continue;
    for (std::size_t i = 0; i < fds.size(); ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      std::array<char, 65536> buffer{};
      const ssize_t n = ::read(fds[i].fd, buffer.data(), buffer.size());
      if (n > 0) {
        (i == 0 ? run.out : run.err).append(buffer.data(), static_cast<std::size_t>(n));
        continue;
      }
      ::close(fds[i].fd);
      fds[i].fd = -1;
      --open;
    }
  }
  return open == 0;
}

}  // namespace

tool_run run_tool(const std::vector<std::string>& argv, const std::string& input,
                  std::chrono::seconds deadline) {
  std::array<int, 2> in{};
  std::array<int, 2> out{};
  std::array<int, 2> err{};
  if (::pipe2(in.data(), O_CLOEXEC) != 0 || ::pipe2(out.data(), O_CLOEXEC) != 0 ||
      ::pipe2(err.data(), O_CLOEXEC) != 0)
    return {};
  const pid_t pid = ::fork();
  if (pid == 0) exec_child(argv, in[0], out[1], err[1]);
  ::close(in[0]);
  ::close(out[1]);
  ::close(err[1]);
  std::thread feeder(feed, in[1], std::cref(input));
  tool_run run;
  std::array<pollfd, 2> fds{{{out[0], POLLIN, 0}, {err[0], POLLIN, 0}}};
  run.timed_out = !collect(fds, run, deadline);
  if (run.timed_out) ::kill(pid, SIGKILL);
  feeder.join();
  int status = 0;
  ::waitpid(pid, &status, 0);
  run.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  for (const pollfd& p : fds)
    if (p.fd >= 0) ::close(p.fd);
  return run;
}

background_tool::background_tool(const std::vector<std::string>& argv,
                                 const std::string& output_path,
                                 const std::optional<std::vector<std::string>>& environment)
    : output_path_(output_path) {
  const int out = ::open(output_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  const int in = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (out < 0 || in < 0) throw std::system_error(errno, std::generic_category(), output_path);
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));  // NOLINT
  args.push_back(nullptr);
  std::vector<char*> env;
  if (environment) {
    for (const std::string& e : *environment)
      env.push_back(const_cast<char*>(e.c_str()));  // NOLINT
    env.push_back(nullptr);
  }
  pid_ = ::fork();
  if (pid_ == 0) {
    ::dup2(in, STDIN_FILENO);
    ::dup2(out, STDOUT_FILENO);
    ::dup2(out, STDERR_FILENO);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    if (environment) {
      ::execve(args[0], args.data(), env.data());
    } else {
      ::execv(args[0], args.data());
    }
    ::_exit(127);
  }
  const int fork_error = errno;
  ::close(out);
  ::close(in);
  if (pid_ < 0) throw std::system_error(fork_error, std::generic_category(), "fork");
}

background_tool::~background_tool() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
}

bool background_tool::signal(int signal) const noexcept {
  return pid_ > 0 && ::kill(pid_, signal) == 0;
}

std::optional<int> background_tool::wait(std::chrono::milliseconds deadline) {
  if (pid_ <= 0) return std::nullopt;
  const auto until = std::chrono::steady_clock::now() + deadline;
  for (;;) {
    int status = 0;
    const pid_t done = ::waitpid(pid_, &status, WNOHANG);
    if (done == pid_) {
      pid_ = -1;
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    if (std::chrono::steady_clock::now() >= until) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

std::string background_tool::output() const {
  std::ifstream in(output_path_, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace fcgi::test
