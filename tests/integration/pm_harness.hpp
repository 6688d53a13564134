// Helpers for the tests that run the built fcgi-pm with real workers (tests/integration/
// pm_test.cpp, tests/interop/pm_interop_test.cpp): a temp folder, /proc readers, the manager
// as a background process with its log, and a request loop through fcgi::client.
#pragma once

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <fcgi/client/client.hpp>
#include <fcgi/test/tool_process.hpp>

namespace fcgi::test::pm {

using namespace std::chrono_literals;
namespace fs = std::filesystem;
using steady = std::chrono::steady_clock;

class temp_dir {
 public:
  temp_dir() {
    std::string pattern = "/tmp/fcgi-pm-test-XXXXXX";
    path_ = ::mkdtemp(pattern.data());
    ::chmod(path_.c_str(), 0755);  // workers running as nobody reach what the test puts here
  }
  ~temp_dir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  temp_dir(temp_dir&&) = delete;
  temp_dir& operator=(temp_dir&&) = delete;
  [[nodiscard]] std::string operator/(const std::string& name) const { return path_ + "/" + name; }
  [[nodiscard]] const std::string& path() const { return path_; }

 private:
  std::string path_;
};

struct proc_stat {
  char state = '?';
  pid_t parent = 0;
};

inline std::optional<proc_stat> stat_of(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text;
  if (!std::getline(in, text)) return std::nullopt;
  const auto close = text.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::istringstream rest(text.substr(close + 2));
  proc_stat result;
  rest >> result.state >> result.parent;
  return result;
}

/// Alive and not a zombie.
inline bool running(pid_t pid) {
  const auto s = stat_of(pid);
  return s && s->state != 'Z' && s->state != 'X';
}

/// The children of `parent`, zombies included.
inline std::vector<pid_t> children_of(pid_t parent, bool with_zombies = false) {
  std::vector<pid_t> result;
  for (const auto& entry : fs::directory_iterator("/proc")) {
    const std::string name = entry.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    const pid_t pid = std::stoi(name);
    const auto s = stat_of(pid);
    if (!s || s->parent != parent) continue;
    if (!with_zombies && s->state == 'Z') continue;
    result.push_back(pid);
  }
  std::sort(result.begin(), result.end());
  return result;
}

inline std::vector<pid_t> zombies_of(pid_t parent) {
  std::vector<pid_t> result;
  for (const pid_t pid : children_of(parent, true)) {
    const auto s = stat_of(pid);
    if (s && s->state == 'Z') result.push_back(pid);
  }
  return result;
}

inline bool wait_until(const std::function<bool()>& done, std::chrono::milliseconds deadline) {
  const auto until = steady::now() + deadline;
  while (steady::now() < until) {
    if (done()) return true;
    std::this_thread::sleep_for(2ms);
  }
  return done();
}

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

/// The value after "Name:" in /proc/PID/status, whitespace collapsed.
inline std::string status_field(pid_t pid, const std::string& name) {
  std::istringstream lines(read_file("/proc/" + std::to_string(pid) + "/status"));
  std::string line;
  while (std::getline(lines, line)) {
    if (line.starts_with(name + ":")) {
      std::istringstream words(line.substr(name.size() + 1));
      std::string word;
      std::string joined;
      while (words >> word) joined += (joined.empty() ? "" : " ") + word;
      return joined;
    }
  }
  return {};
}

inline std::vector<std::string> environ_of(pid_t pid) {
  const std::string raw = read_file("/proc/" + std::to_string(pid) + "/environ");
  std::vector<std::string> result;
  std::size_t start = 0;
  while (start < raw.size()) {
    const auto end = raw.find('\0', start);
    result.push_back(raw.substr(start, end - start));
    start = end == std::string::npos ? raw.size() : end + 1;
  }
  return result;
}

inline std::size_t fd_count(pid_t pid) {
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& entry :
       fs::directory_iterator("/proc/" + std::to_string(pid) + "/fd")) {
    ++n;
  }
  return n;
}

inline std::string fd_target(pid_t pid, int fd) {
  std::error_code error;
  return fs::read_symlink("/proc/" + std::to_string(pid) + "/fd/" + std::to_string(fd), error);
}

/// A running fcgi-pm with its log in the test's folder.
class manager {
 public:
  /// Starts `tool` (the fcgi-pm binary) with `args`.
  manager(const std::string& tool, const temp_dir& dir, std::vector<std::string> args,
          const std::optional<std::vector<std::string>>& environment = std::nullopt)
      : log_path_(dir / "pm.log") {
    args.insert(args.begin(), tool);
    process_ = std::make_unique<background_tool>(args, log_path_, environment);
  }
  [[nodiscard]] pid_t pid() const { return process_->pid(); }
  [[nodiscard]] std::vector<pid_t> workers() const { return children_of(pid()); }
  bool wait_workers(std::size_t n, std::chrono::milliseconds deadline = 5s) const {
    return wait_until([&] { return workers().size() == n; }, deadline);
  }
  [[nodiscard]] std::string log() const { return read_file(log_path_); }
  bool wait_log(const std::string& text, std::chrono::milliseconds deadline = 5s) const {
    return wait_until([&] { return log().find(text) != std::string::npos; }, deadline);
  }
  bool signal(int s) const { return process_->signal(s); }
  std::optional<int> wait(std::chrono::milliseconds deadline) { return process_->wait(deadline); }

 private:
  std::string log_path_;
  std::unique_ptr<background_tool> process_;
};

inline fcgi::client::pool_settings one_connection_per_call() {
  fcgi::client::pool_settings settings;
  settings.mpx = fcgi::client::multiplexing::off;
  settings.keep_conn = false;  // as nginx without fastcgi_keep_conn
  settings.timeouts.connect = 2s;
  settings.timeouts.first_byte = 5s;
  settings.timeouts.total = 8s;
  return settings;
}

inline fcgi::client::response get(fcgi::client::client& client, const std::string& target = "/") {
  fcgi::protocol::cgi_request http;
  http.target = target;
  const auto request = fcgi::client::http_request(http);
  return client.call(request.value());
}

/// Requests in a loop on its own thread until stopped, counting the outcomes.
class steady_load {
 public:
  explicit steady_load(const std::string& endpoint, unsigned threads = 1) {
    for (unsigned i = 0; i < threads; ++i) {
      threads_.emplace_back([this, endpoint] {
        fcgi::client::client client(endpoint, one_connection_per_call());
        while (!stop_) {
          const auto r = get(client);
          if (r.ok() && r.app_status == 0 && r.out.find("Status: 5") == std::string::npos) {
            ++ok_;
          } else {
            ++failed_;
            const std::lock_guard lock(mutex_);
            failures_.push_back(r.detail.empty() ? r.error.message() : r.detail);
          }
        }
      });
    }
  }
  ~steady_load() { stop(); }
  steady_load(const steady_load&) = delete;
  steady_load& operator=(const steady_load&) = delete;
  steady_load(steady_load&&) = delete;
  steady_load& operator=(steady_load&&) = delete;
  void stop() {
    stop_ = true;
    for (std::thread& t : threads_) {
      if (t.joinable()) t.join();
    }
  }
  [[nodiscard]] unsigned ok() const { return ok_; }
  [[nodiscard]] unsigned failed() const { return failed_; }
  [[nodiscard]] std::string failures() {
    const std::lock_guard lock(mutex_);
    std::string text;
    for (const std::string& f : failures_) text += f + "\n";
    return text;
  }

 private:
  std::atomic<bool> stop_{false};
  std::atomic<unsigned> ok_{0};
  std::atomic<unsigned> failed_{0};
  std::mutex mutex_;
  std::vector<std::string> failures_;
  std::vector<std::thread> threads_;
};

/// The inode of the listening unix socket at `path` as /proc/net/unix lists it.
inline std::string socket_inode(const std::string& path) {
  std::istringstream lines(read_file("/proc/net/unix"));
  std::string line;
  while (std::getline(lines, line)) {
    if (!line.ends_with(" " + path)) continue;
    std::istringstream fields(line);
    std::string field;
    for (int i = 0; i < 7 && fields >> field; ++i) {
    }
    return field;
  }
  return {};
}

}  // namespace fcgi::test::pm
