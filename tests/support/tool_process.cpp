#include <fcgi/test/tool_process.hpp>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
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

}  // namespace fcgi::test
