// fcgi-pm with real processes and real sockets: the built tool runs the example apps (and
// tests/integration/pm_worker.cpp) as workers, fcgi::client sends requests, and /proc shows
// who the workers are. HOSTILE E-57, E-58, E-59 (basic form), E-61 and E-62.
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "pm_harness.hpp"

namespace {

using namespace fcgi::test::pm;

const std::string pm_tool = FCGI_PM_TOOL;
const std::string pm_worker = FCGI_PM_WORKER;
const std::string hello_app = FCGI_EXAMPLE_HELLO;
const std::string counter_app = FCGI_EXAMPLE_COUNTER;
const std::string async_app = FCGI_EXAMPLE_ASYNC;
const std::string pm_app = FCGI_PM_APP;

TEST(pm, pool_of_three_serves_and_workers_hold_the_socket_on_fd_0) {
  const temp_dir dir;
  const std::string sock = dir / "app.sock";
  manager pm(pm_tool, dir, {"-R", "-l", "unix:" + sock, "-w", "3", "--", counter_app});
  ASSERT_TRUE(pm.wait_workers(3)) << pm.log();
  ASSERT_TRUE(wait_until([&] { return fs::exists(sock); }, 2s));
  struct stat info {};
  ASSERT_EQ(::stat(sock.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0660U);  // the default socket_mode

  const std::vector<pid_t> workers = pm.workers();
  const std::string inode = socket_inode(sock);
  ASSERT_FALSE(inode.empty());
  for (const pid_t w : workers) {
    EXPECT_EQ(stat_of(w)->parent, pm.pid());
    // A worker just forked may not have moved the socket onto fd 0 yet: wait for it.
    EXPECT_TRUE(wait_until([&] { return fd_target(w, 0) == "socket:[" + inode + "]"; }, 2s))
        << "worker " << w << ": " << fd_target(w, 0);
  }
  fcgi::client::client client("unix:" + sock, one_connection_per_call());
  std::set<std::string> served_by;
  for (int i = 0; i < 30; ++i) {
    const auto r = get(client);
    ASSERT_TRUE(r.ok()) << r.detail;
    const auto at = r.out.find("running in process ");
    ASSERT_NE(at, std::string::npos) << r.out;
    const pid_t pid = std::stoi(r.out.substr(at + 19));
    EXPECT_NE(std::find(workers.begin(), workers.end(), pid), workers.end());
    served_by.insert(r.out.substr(at + 19));
  }
  EXPECT_TRUE(pm.log().find("pool counter: worker " + std::to_string(workers[0]) + " started") !=
              std::string::npos)
      << pm.log();
  pm.signal(SIGTERM);
  EXPECT_EQ(pm.wait(5s), 0);
}

TEST(pm, e57_a_killed_worker_is_replaced_and_reaped) {
  const temp_dir dir;
  const std::string sock = dir / "app.sock";
  manager pm(pm_tool, dir, {"-R", "-l", "unix:" + sock, "-w", "3", "--", hello_app});
  ASSERT_TRUE(pm.wait_workers(3)) << pm.log();
  ASSERT_TRUE(wait_until([&] { return fs::exists(sock); }, 2s));
  steady_load load("unix:" + sock, 2);
  std::this_thread::sleep_for(1100ms);  // past min_uptime: a crash, not a failed start
  const std::vector<pid_t> before = pm.workers();
  const pid_t victim = before[1];
  const unsigned ok_before_kill = load.ok();
  const auto killed_at = steady::now();
  ASSERT_EQ(::kill(victim, SIGKILL), 0);
  ASSERT_TRUE(wait_until(
      [&] {
        const auto now = pm.workers();
        return now.size() == 3 && std::find(now.begin(), now.end(), victim) == now.end();
      },
      5s))
      << pm.log();
  const auto respawn =
      std::chrono::duration_cast<std::chrono::microseconds>(steady::now() - killed_at);
  std::this_thread::sleep_for(300ms);
  load.stop();
  std::printf("respawn after SIGKILL: %.1f ms; %u requests ok, %u failed\n",
              static_cast<double>(respawn.count()) / 1000.0, load.ok(), load.failed());
  EXPECT_LT(respawn, 1s);
  EXPECT_GT(load.ok(), ok_before_kill + 10);        // requests kept succeeding after the kill
  EXPECT_LE(load.failed(), 2U) << load.failures();  // at most what was in flight on the victim
  EXPECT_TRUE(pm.wait_log("worker " + std::to_string(victim) + " was killed by SIGKILL"))
      << pm.log();
  EXPECT_TRUE(wait_until([&] { return zombies_of(pm.pid()).empty(); }, 1s));
  pm.signal(SIGTERM);
  EXPECT_EQ(pm.wait(5s), 0);
}

TEST(pm, e58_a_worker_dying_at_start_is_braked_and_logged_once_a_second) {
  const temp_dir dir;
  manager pm(pm_tool, dir,
             {"-R", "--log-format", "json", "-l", "unix:" + (dir / "app.sock"), "-w", "2",
              "--backoff-max", "1s", "--", "/bin/false"});
  std::this_thread::sleep_for(4500ms);
  ASSERT_TRUE(running(pm.pid())) << pm.log();
  EXPECT_TRUE(zombies_of(pm.pid()).empty());
  pm.signal(SIGTERM);
  ASSERT_EQ(pm.wait(5s), 0) << pm.log();

  // Every line is a JSON object; the failures are at least a second apart.
  std::istringstream lines(pm.log());
  std::string line;
  std::vector<std::pair<std::string, std::string>> failures;  // time, message
  while (std::getline(lines, line)) {
    const auto entry = nlohmann::json::parse(line);
    if (entry["event"] == "worker_failed") {
      failures.emplace_back(entry["time"], entry["message"]);
      EXPECT_EQ(entry["pool"], "false");
      EXPECT_EQ(entry["level"], "error");
    }
  }
  ASSERT_GE(failures.size(), 3U) << pm.log();
  EXPECT_LE(failures.size(), 6U) << pm.log();  // at most one line per second (+ the first)
  auto millis = [](const std::string& time) {  // "2026-12-07T23:04:29.320Z"
    return std::stol(time.substr(11, 2)) * 3600000 + std::stol(time.substr(14, 2)) * 60000 +
           std::stol(time.substr(17, 2)) * 1000 + std::stol(time.substr(20, 3));
  };
  for (std::size_t i = 1; i < failures.size(); ++i) {
    EXPECT_GE(millis(failures[i].first) - millis(failures[i - 1].first), 990) << failures[i].second;
  }
  // "worker N exited with status 1 within 2 ms of starting, 7 times in a row; next start in 1 s"
  const std::string& last = failures.back().second;
  EXPECT_NE(last.find("exited with status 1 within"), std::string::npos) << last;
  const auto times = last.find(" times in a row");
  ASSERT_NE(times, std::string::npos) << last;
  const int starts = std::stoi(last.substr(last.rfind(", ", times) + 2));
  std::printf("crash loop: %d starts in 4.5 s (backoff 0.1 s doubling, capped at 1 s)\n", starts);
  // 2 at once, then after 0.2, 0.4, 0.8 s, then one a second: 8 by 4.5 s.
  EXPECT_GE(starts, 6);
  EXPECT_LE(starts, 9);
}

TEST(pm, e61_workers_die_with_a_killed_manager) {
  const temp_dir dir;
  manager pm(pm_tool, dir, {"-R", "-l", "unix:" + (dir / "app.sock"), "-w", "3", "--", hello_app});
  ASSERT_TRUE(pm.wait_workers(3)) << pm.log();
  const std::vector<pid_t> workers = pm.workers();
  const auto killed_at = steady::now();
  pm.signal(SIGKILL);
  ASSERT_EQ(pm.wait(2s), 128 + SIGKILL);
  const bool gone =
      wait_until([&] { return std::none_of(workers.begin(), workers.end(), running); }, 1s);
  const auto took =
      std::chrono::duration_cast<std::chrono::microseconds>(steady::now() - killed_at);
  std::printf("workers gone %.1f ms after the manager's SIGKILL\n",
              static_cast<double>(took.count()) / 1000.0);
  EXPECT_TRUE(gone);
  for (const pid_t w : workers) {
    if (running(w)) ::kill(w, SIGKILL);  // do not leave orphans behind a failed test
  }
}

TEST(pm, e62_a_worker_opening_1500_fds_and_making_fd_0_non_blocking_harms_nobody) {
  const temp_dir dir;
  const std::string sock = dir / "app.sock";
  manager pm(pm_tool, dir,
             {"-R", "-l", "unix:" + sock, "-w", "3", "--rlimit-nofile", "4096", "--", pm_worker,
              "misbehave", dir / "lock", hello_app});
  ASSERT_TRUE(pm.wait_workers(3)) << pm.log();
  pid_t bad = 0;
  ASSERT_TRUE(wait_until(
      [&] {
        for (const pid_t w : pm.workers()) {
          if (fd_count(w) > 1500) bad = w;
        }
        return bad != 0;
      },
      5s));
  // fd 0's open file description is shared: O_NONBLOCK (04000) now shows in every worker.
  ASSERT_TRUE(wait_until(
      [&] {
        const std::string info = read_file("/proc/" + std::to_string(bad) + "/fdinfo/0");
        const auto flags = info.find("flags:");
        return flags != std::string::npos &&
               (std::stoul(info.substr(flags + 6), nullptr, 8) & O_NONBLOCK) != 0;
      },
      2s));
  // Spawning holds a pipe open until the child has exec'd: count once every worker has.
  const auto all_execd = [&] {
    const auto workers = pm.workers();
    return std::all_of(workers.begin(), workers.end(), [](pid_t w) {
      std::error_code error;
      return fs::read_symlink("/proc/" + std::to_string(w) + "/exe", error) != pm_tool;
    });
  };
  // A child has exec'd a little before the manager closes its end of the pipe; the manager
  // logs "worker N started" after closing it.
  const auto all_started = [&] {
    const auto workers = pm.workers();
    const std::string log = pm.log();
    return std::all_of(workers.begin(), workers.end(), [&log](pid_t w) {
      return log.find("worker " + std::to_string(w) + " started") != std::string::npos;
    });
  };
  ASSERT_TRUE(wait_until([&] { return all_execd() && all_started(); }, 5s)) << pm.log();
  const std::size_t manager_fds = fd_count(pm.pid());
  fcgi::client::client client("unix:" + sock, one_connection_per_call());
  for (int i = 0; i < 20; ++i) {
    const auto r = get(client);
    ASSERT_TRUE(r.ok()) << r.detail;
    EXPECT_NE(r.out.find("Hello, world!"), std::string::npos);
  }
  ::kill(bad, SIGKILL);  // replaced by a well-behaved one (the lock exists now)
  ASSERT_TRUE(wait_until(
      [&] {
        const auto now = pm.workers();
        return now.size() == 3 && std::find(now.begin(), now.end(), bad) == now.end();
      },
      5s));
  for (int i = 0; i < 20; ++i) EXPECT_TRUE(get(client).ok());
  EXPECT_TRUE(wait_until([&] { return all_execd() && fd_count(pm.pid()) == manager_fds; }, 2s))
      << fd_count(pm.pid()) << " fds, " << manager_fds << " before";
  EXPECT_LT(manager_fds, 16U);
  EXPECT_TRUE(running(pm.pid()));
  pm.signal(SIGTERM);
  EXPECT_EQ(pm.wait(5s), 0);
}

TEST(pm, e59_sighup_under_load_replaces_every_worker_without_a_failed_request) {
  const temp_dir dir;
  const std::string sock = dir / "app.sock";
  manager pm(pm_tool, dir,
             {"-R", "-l", "unix:" + sock, "-w", "3", "--min-uptime", "300ms", "--", counter_app});
  ASSERT_TRUE(pm.wait_workers(3)) << pm.log();
  ASSERT_TRUE(wait_until([&] { return fs::exists(sock); }, 2s));
  const std::vector<pid_t> old_workers = pm.workers();
  steady_load load("unix:" + sock, 2);
  std::this_thread::sleep_for(400ms);
  const auto started = steady::now();
  pm.signal(SIGHUP);
  ASSERT_TRUE(wait_until(
      [&] {
        const auto now = pm.workers();
        return now.size() == 3 && std::none_of(now.begin(), now.end(), [&](pid_t w) {
                 return std::find(old_workers.begin(), old_workers.end(), w) != old_workers.end();
               });
      },
      8s))
      << pm.log();
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(steady::now() - started);
  std::this_thread::sleep_for(300ms);
  load.stop();
  std::printf(
      "reload of 3 workers (min_uptime 300 ms) under load: %lld ms, %u requests ok, %u "
      "failed\n",
      static_cast<long long>(took.count()), load.ok(), load.failed());
  EXPECT_EQ(load.failed(), 0U) << load.failures();
  EXPECT_GT(load.ok(), 50U);
  EXPECT_TRUE(zombies_of(pm.pid()).empty());
  pm.signal(SIGTERM);
  EXPECT_EQ(pm.wait(5s), 0);
}

TEST(pm, sigterm_finishes_the_request_in_flight_then_exits_0_and_removes_the_socket) {
  const temp_dir dir;
  const std::string sock = dir / "app.sock";
  manager pm(pm_tool, dir, {"-R", "-l", "unix:" + sock, "-w", "1", "--", async_app});
  ASSERT_TRUE(pm.wait_workers(1)) << pm.log();
  ASSERT_TRUE(wait_until([&] { return fs::exists(sock); }, 2s));
  std::this_thread::sleep_for(200ms);  // the app is accepting
  fcgi::client::response slow;
  std::thread call([&] {
    fcgi::client::client client("unix:" + sock, one_connection_per_call());
    slow = get(client, "/?ms=1500");
  });
  std::this_thread::sleep_for(400ms);
  pm.signal(SIGTERM);
  const auto status = pm.wait(6s);
  call.join();
  EXPECT_EQ(status, 0) << pm.log();
  EXPECT_TRUE(slow.ok()) << slow.detail;
  EXPECT_NE(slow.out.find("waited 1500 ms"), std::string::npos) << slow.out;
  EXPECT_FALSE(fs::exists(sock));
  EXPECT_NE(pm.log().find("SIGTERM: graceful stop"), std::string::npos);
}

TEST(pm, sigint_is_a_fast_stop) {
  const temp_dir dir;
  const std::string sock = dir / "app.sock";
  // A worker that ignores SIGTERM is killed after the fast-stop grace of 1 s.
  manager pm(pm_tool, dir,
             {"-R", "-l", "unix:" + sock, "-w", "2", "--", "/bin/sh", "-c",
              "trap '' TERM; while :; do sleep 0.05; done"});
  ASSERT_TRUE(pm.wait_workers(2)) << pm.log();
  std::this_thread::sleep_for(200ms);
  const auto started = steady::now();
  pm.signal(SIGINT);
  EXPECT_EQ(pm.wait(4s), 0) << pm.log();
  const auto took = steady::now() - started;
  EXPECT_GE(took, 900ms);
  EXPECT_LT(took, 2500ms);
  EXPECT_NE(pm.log().find("did not exit in time: SIGKILL"), std::string::npos) << pm.log();
  EXPECT_FALSE(fs::exists(sock));
}

TEST(pm, workers_run_as_nobody_in_a_chroot_with_chdir_and_umask) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root";
  const temp_dir dir;
  const std::string jail = dir / "jail";
  fs::create_directories(jail + "/data");
  fs::copy_file(pm_worker, jail + "/pm_worker");
  fs::permissions(jail, fs::perms(0755));
  manager pm(pm_tool, dir,
             {"-l", "unix:" + (dir / "app.sock"), "--socket-mode", "0640", "--socket-group",
              "nogroup", "-w", "1", "-u", "nobody", "--chroot", jail, "--chdir", "/data", "--umask",
              "027", "--", "/pm_worker", "pause"});
  ASSERT_TRUE(pm.wait_workers(1)) << pm.log();
  const pid_t w = pm.workers()[0];
  ASSERT_TRUE(wait_until([&] { return status_field(w, "Name") == "pm_worker"; }, 2s)) << pm.log();
  EXPECT_EQ(status_field(w, "Uid"), "65534 65534 65534 65534");
  EXPECT_EQ(status_field(w, "Gid"), "65534 65534 65534 65534");
  EXPECT_EQ(status_field(w, "Groups"), "65534");
  EXPECT_EQ(status_field(w, "Umask"), "0027");
  EXPECT_EQ(fs::read_symlink("/proc/" + std::to_string(w) + "/root"), jail);
  EXPECT_EQ(fs::read_symlink("/proc/" + std::to_string(w) + "/cwd"), jail + "/data");
  // fds: the socket on 0, the log on 1 and 2, the scoreboard on 3, nothing else leaked from
  // the manager.
  EXPECT_EQ(fd_count(w), 4U);
  EXPECT_TRUE(fd_target(w, 0).starts_with("socket:"));
  EXPECT_TRUE(fd_target(w, 3).starts_with("/memfd:fcgi-pm-scoreboard")) << fd_target(w, 3);
  EXPECT_NE(pm.log().find("as nobody"), std::string::npos) << pm.log();
  struct stat info {};
  ASSERT_EQ(::stat((dir / "app.sock").c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0640U);
  EXPECT_EQ(info.st_gid, 65534U);  // nogroup: the web server's group in a real setup
  pm.signal(SIGTERM);
  EXPECT_EQ(pm.wait(5s), 0);
}

TEST(pm, worker_environment_is_only_the_allowlist_and_explicit_vars) {
  const temp_dir dir;
  const std::vector<std::string> environment = {"PATH=/usr/bin:/bin", "SECRET=hunter2", "KEEP=yes",
                                                "LISTEN_FDS=7", "LISTEN_PID=1"};
  manager pm(pm_tool, dir,
             {"-R", "-l", "tcp:127.0.0.1:0", "--allowed-clients", "127.0.0.1,::1", "-e", "KEEP",
              "-e", "EXTRA=z", "-e", "ABSENT", "--", pm_worker, "pause"},
             environment);
  ASSERT_TRUE(pm.wait_workers(1)) << pm.log();
  const pid_t w = pm.workers()[0];
  ASSERT_TRUE(wait_until([&] { return status_field(w, "Name") == "pm_worker"; }, 2s));
  EXPECT_EQ(environ_of(w),
            (std::vector<std::string>{"KEEP=yes", "EXTRA=z", "FCGI_WEB_SERVER_ADDRS=127.0.0.1,::1",
                                      "FCGI_PM_SCOREBOARD=3"}));
  pm.signal(SIGTERM);
  EXPECT_EQ(pm.wait(5s), 0);
}

TEST(pm, exec_failure_names_the_program_and_errno) {
  const temp_dir dir;
  manager pm(pm_tool, dir, {"-R", "-l", "unix:" + (dir / "app.sock"), "--", dir / "missing-app"});
  EXPECT_TRUE(pm.wait_log("did not start: cannot exec " + (dir / "missing-app") +
                          ": No such file or directory; next start in 0.1 s"))
      << pm.log();
  pm.signal(SIGTERM);
  EXPECT_EQ(pm.wait(5s), 0);
}

TEST(pm, bad_configs_exit_2_naming_the_line_and_the_key) {
  const temp_dir dir;
  const std::string file = dir / "bad.toml";
  std::ofstream(file) << "[pool.app]\nlisten = \"unix:" << (dir / "a.sock")
                      << "\"\ncommand = [\"/bin/true\"]\nworkers = 0\n";
  auto run = fcgi::test::run_tool({pm_tool, "-c", file});
  EXPECT_EQ(run.status, 2);
  EXPECT_NE(run.err.find(file + ":4: pool.app.workers: must be an integer from 1 to 1024"),
            std::string::npos)
      << run.err;

  std::ofstream(file) << "[pool.app]\nlisten = \"unix:" << (dir / "a.sock")
                      << "\"\ncommand = [\"/bin/true\"]\nsocket_mode = \"0666\"\n";
  run = fcgi::test::run_tool({pm_tool, "-c", file, "-R"});
  EXPECT_EQ(run.status, 2);
  EXPECT_NE(run.err.find("allow_world_writable = true"), std::string::npos) << run.err;

  run = fcgi::test::run_tool({pm_tool, "-l", "unix:/tmp/x.sock", "-w", "0", "--", "/bin/true"});
  EXPECT_EQ(run.status, 2);
  EXPECT_NE(run.err.find("--workers"), std::string::npos) << run.err;

  if (::geteuid() == 0) {  // root workers need --allow-root, as php-fpm needs -R
    run = fcgi::test::run_tool({pm_tool, "-l", "unix:" + (dir / "b.sock"), "--", "/bin/true"});
    EXPECT_EQ(run.status, 2);
    EXPECT_NE(run.err.find("--allow-root"), std::string::npos) << run.err;
  }
  std::ofstream(file) << "[pool.app]\nlisten = \"unix:" << (dir / "a.sock")
                      << "\"\ncommand = [\"/bin/true\"]\nuser = \"nobody\"\n";
  run = fcgi::test::run_tool({pm_tool, "-t", "-c", file});
  EXPECT_EQ(run.status, ::geteuid() == 0 ? 0 : 2) << run.err;
  EXPECT_FALSE(fs::exists(dir / "a.sock"));  // -t opens nothing
}

TEST(pm, reload_rereads_the_file_moves_the_socket_and_survives_a_broken_file) {
  const temp_dir dir;
  const std::string file = dir / "pm.toml";
  auto write_config = [&](const std::string& socket, unsigned workers) {
    std::ofstream(file) << "[pool.app]\nlisten = \"unix:" << socket << "\"\ncommand = [\""
                        << hello_app << "\"]\nworkers = " << workers
                        << "\nmin_uptime = \"200ms\"\n";
  };
  write_config(dir / "one.sock", 2);
  manager pm(pm_tool, dir, {"-R", "-c", file});
  ASSERT_TRUE(pm.wait_workers(2)) << pm.log();
  const auto first = pm.workers();

  std::ofstream(file) << "[pool.app]\nlisten = \"unix:" << (dir / "one.sock") << "\"\nworkers =\n";
  pm.signal(SIGHUP);
  ASSERT_TRUE(pm.wait_log("reload refused, the running configuration stays: " + file + ":3:"))
      << pm.log();
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(pm.workers(), first);

  write_config(dir / "two.sock", 3);
  pm.signal(SIGHUP);
  ASSERT_TRUE(wait_until(
      [&] {
        const auto now = pm.workers();
        return now.size() == 3 && std::none_of(now.begin(), now.end(), [&](pid_t w) {
                 return std::find(first.begin(), first.end(), w) != first.end();
               });
      },
      6s))
      << pm.log();
  ASSERT_TRUE(wait_until([&] { return !fs::exists(dir / "one.sock"); }, 2s));
  fcgi::client::client client("unix:" + (dir / "two.sock"), one_connection_per_call());
  EXPECT_TRUE(get(client).ok());
  pm.signal(SIGTERM);
  EXPECT_EQ(pm.wait(5s), 0);
  EXPECT_FALSE(fs::exists(dir / "two.sock"));
}

}  // namespace

namespace {

TEST(pm, status_endpoint_reports_workers_restarts_and_prometheus_text) {
  const temp_dir dir;
  const std::string status_sock = dir / "status.sock";
  manager pm(pm_tool, dir,
             {"-R", "--status-listen", "unix:" + status_sock, "-l", "unix:" + (dir / "app.sock"),
              "-w", "2", "--min-uptime", "200ms", "--", hello_app});
  ASSERT_TRUE(pm.wait_workers(2)) << pm.log();
  ::kill(pm.workers()[0], SIGKILL);
  nlohmann::json status;
  ASSERT_TRUE(wait_until(
      [&] {
        const auto run = fcgi::test::run_tool({pm_tool, "status", "unix:" + status_sock});
        if (run.status != 0) return false;
        status = nlohmann::json::parse(run.out);
        const auto& pool = status["pools"][0];
        // hello is an fcgikit app: its scoreboard says idle once it has published.
        return pool["workers"]["idle"] == 2 && pool["restarts"] == 1;
      },
      8s))
      << status.dump(2) << pm.log();
  EXPECT_EQ(status["pid"], pm.pid());
  EXPECT_EQ(status["pools"][0]["name"], "hello");
  EXPECT_EQ(status["pools"][0]["workers_configured"], 2);
  EXPECT_EQ(status["pools"][0]["processes"].size(), 2U);
  EXPECT_EQ(status["pools"][0]["workers"]["running"], 2);
  EXPECT_EQ(status["pools"][0]["restarts_by_reason"]["crash"], 1);
  EXPECT_EQ(status["pools"][0]["restarts_by_reason"]["max_requests"], 0);

  // Requests served, per worker and per pool, from the scoreboards (published once a second).
  fcgi::client::client client("unix:" + (dir / "app.sock"), one_connection_per_call());
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(get(client).ok());
  ASSERT_TRUE(wait_until(
      [&] {
        const auto run = fcgi::test::run_tool({pm_tool, "status", "unix:" + status_sock});
        if (run.status != 0) return false;
        status = nlohmann::json::parse(run.out);
        return status["pools"][0]["requests"] == 10;
      },
      5s))
      << status.dump(2);
  const auto& processes = status["pools"][0]["processes"];
  EXPECT_EQ(processes[0]["requests"].get<int>() + processes[1]["requests"].get<int>(), 10);

  const auto prometheus =
      fcgi::test::run_tool({pm_tool, "status", "--prometheus", "unix:" + status_sock});
  EXPECT_EQ(prometheus.status, 0) << prometheus.err;
  EXPECT_NE(prometheus.out.find("fcgi_pm_workers{pool=\"hello\",state=\"idle\"} 2\n"),
            std::string::npos)
      << prometheus.out;
  EXPECT_NE(prometheus.out.find("fcgi_pm_restarts_total{pool=\"hello\",reason=\"crash\"} 1\n"),
            std::string::npos);
  EXPECT_NE(prometheus.out.find("fcgi_pm_requests_total{pool=\"hello\"} 10\n"), std::string::npos);

  pm.signal(SIGTERM);
  EXPECT_EQ(pm.wait(5s), 0) << pm.log();
  EXPECT_FALSE(fs::exists(status_sock));
  const auto gone = fcgi::test::run_tool({pm_tool, "status", "unix:" + status_sock});
  EXPECT_EQ(gone.status, 3);
}

}  // namespace

namespace {

TEST(pm, e59_requests_in_flight_during_a_reload_finish_on_the_old_workers) {
  const temp_dir dir;
  const std::string sock = dir / "app.sock";
  manager pm(pm_tool, dir,
             {"-R", "-l", "unix:" + sock, "-w", "2", "--min-uptime", "200ms", "--", async_app});
  ASSERT_TRUE(pm.wait_workers(2)) << pm.log();
  ASSERT_TRUE(wait_until([&] { return fs::exists(sock); }, 2s));
  std::this_thread::sleep_for(300ms);  // the apps accept
  const auto old_workers = pm.workers();
  // Four 1.5 s requests in flight on the old workers (each serves several at once).
  std::vector<fcgi::client::response> slow(4);
  std::vector<std::thread> calls;
  for (auto& r : slow) {
    calls.emplace_back([&r, &sock] {
      fcgi::client::client client("unix:" + sock, one_connection_per_call());
      r = get(client, "/?ms=1500");
    });
  }
  std::this_thread::sleep_for(300ms);
  pm.signal(SIGHUP);
  for (std::thread& t : calls) t.join();
  for (const auto& r : slow) {
    EXPECT_TRUE(r.ok()) << r.detail;
    EXPECT_NE(r.out.find("waited 1500 ms"), std::string::npos) << r.out;
  }
  ASSERT_TRUE(wait_until(
      [&] {
        const auto now = pm.workers();
        return now.size() == 2 && std::none_of(now.begin(), now.end(), [&](pid_t w) {
                 return std::find(old_workers.begin(), old_workers.end(), w) != old_workers.end();
               });
      },
      5s))
      << pm.log();
  fcgi::client::client client("unix:" + sock, one_connection_per_call());
  EXPECT_TRUE(get(client, "/?ms=1").ok());
  pm.signal(SIGTERM);
  EXPECT_EQ(pm.wait(5s), 0);
}

}  // namespace

namespace {

TEST(pm, a_worker_over_max_rss_is_replaced_gracefully) {
  const temp_dir dir;
  manager pm(pm_tool, dir,
             {"-R", "-l", "unix:" + (dir / "app.sock"), "-w", "1", "--max-rss", "30M",
              "--min-uptime", "200ms", "--", pm_worker, "grow", dir / "lock", "64"});
  ASSERT_TRUE(pm.wait_workers(1)) << pm.log();
  const pid_t big = pm.workers()[0];
  ASSERT_TRUE(pm.wait_log("replacing worker " + std::to_string(big) + ": its resident memory 6"))
      << pm.log();
  EXPECT_NE(pm.log().find("MiB is over max_rss 30 MiB"), std::string::npos);
  ASSERT_TRUE(wait_until(
      [&] {
        const auto now = pm.workers();
        return now.size() == 1 && now[0] != big;
      },
      5s))
      << pm.log();
  EXPECT_TRUE(pm.wait_log("worker " + std::to_string(big) + " stopped")) << pm.log();
  std::this_thread::sleep_for(1500ms);  // the small replacement stays
  EXPECT_EQ(pm.workers().size(), 1U);
  pm.signal(SIGTERM);
  EXPECT_EQ(pm.wait(5s), 0);
}

}  // namespace

namespace {

std::size_t occurrences(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

/// The pid in "replacing worker PID: " or "killing worker PID: " before `reason` in the log.
pid_t pid_before(const std::string& log, const std::string& verb, const std::string& reason) {
  const auto at = log.find(reason);
  if (at == std::string::npos) return 0;
  const auto start = log.rfind(verb, at);
  if (start == std::string::npos) return 0;
  return std::stoi(log.substr(start + verb.size()));
}

TEST(pm, max_requests_recycles_workers_under_load_without_a_failed_request) {
  const temp_dir dir;
  const std::string sock = dir / "app.sock";
  manager pm(pm_tool, dir,
             {"-R", "-l", "unix:" + sock, "-w", "2", "--min-uptime", "200ms", "--max-requests",
              "50", "--", hello_app});
  ASSERT_TRUE(pm.wait_workers(2)) << pm.log();
  ASSERT_TRUE(wait_until([&] { return fs::exists(sock); }, 2s));
  steady_load load("unix:" + sock, 2);
  // Four replacements at least: each worker reports its count once a second.
  EXPECT_TRUE(wait_until([&] { return occurrences(pm.log(), "(max_requests 50)") >= 4; }, 30s))
      << pm.log();
  load.stop();
  EXPECT_EQ(load.failed(), 0U) << load.failures();
  EXPECT_GT(load.ok(), 200U);
  std::cout << "max_requests 50: " << occurrences(pm.log(), "(max_requests 50)")
            << " workers replaced, " << load.ok() << " requests, " << load.failed() << " failed\n";
  pm.signal(SIGTERM);
  EXPECT_EQ(pm.wait(10s), 0) << pm.log();
}

TEST(pm, request_timeout_kills_a_stuck_worker_names_the_request_and_a_new_one_serves) {
  const temp_dir dir;
  const std::string sock = dir / "app.sock";
  manager pm(pm_tool, dir,
             {"-R", "-l", "unix:" + sock, "-w", "1", "--min-uptime", "200ms", "--request-timeout",
              "1s", "--", pm_app});
  ASSERT_TRUE(pm.wait_workers(1)) << pm.log();
  ASSERT_TRUE(wait_until([&] { return fs::exists(sock); }, 2s));
  fcgi::client::client client("unix:" + sock, one_connection_per_call());
  ASSERT_TRUE(wait_until([&] { return get(client).ok(); }, 5s));
  const pid_t stuck = pm.workers()[0];
  const auto started = steady::now();
  const auto r = get(client, "/sleep?s=30");
  const auto took = steady::now() - started;
  EXPECT_FALSE(r.ok() && r.out.find("served by") != std::string::npos) << r.out;
  ASSERT_TRUE(wait_until([&] { return !running(stuck); }, 10s)) << pm.log();
  const auto dead = steady::now() - started;
  std::cout << "request_timeout 1s: the client saw the end after "
            << std::chrono::duration_cast<std::chrono::milliseconds>(took).count()
            << " ms, the worker was gone after "
            << std::chrono::duration_cast<std::chrono::milliseconds>(dead).count() << " ms\n";
  EXPECT_LT(dead, 6s);  // 1 s limit + a check every 250 ms + 1 s grace, on a loaded machine
  const std::string log = pm.log();
  EXPECT_NE(log.find("killing worker " + std::to_string(stuck) + ": thread "), std::string::npos)
      << log;
  EXPECT_NE(log.find("has run 'GET /sleep?s=30' for "), std::string::npos) << log;
  EXPECT_NE(log.find("(request_timeout 1.0 s)"), std::string::npos) << log;
  // A new worker serves.
  std::string out;
  ASSERT_TRUE(wait_until(
      [&] {
        const auto again = get(client);
        out = again.out;
        return again.ok() && out.find("served by ") != std::string::npos;
      },
      5s))
      << pm.log();
  EXPECT_EQ(out.find("served by " + std::to_string(stuck) + "\n"), std::string::npos);
  pm.signal(SIGTERM);
  EXPECT_EQ(pm.wait(10s), 0) << pm.log();
}

TEST(pm, slowlog_names_a_slow_handler_once_per_run) {
  const temp_dir dir;
  const std::string sock = dir / "app.sock";
  manager pm(pm_tool, dir,
             {"-R", "-l", "unix:" + sock, "-w", "1", "--slowlog-timeout", "300ms", "--", pm_app});
  ASSERT_TRUE(pm.wait_workers(1)) << pm.log();
  ASSERT_TRUE(wait_until([&] { return fs::exists(sock); }, 2s));
  fcgi::client::client client("unix:" + sock, one_connection_per_call());
  ASSERT_TRUE(wait_until([&] { return get(client).ok(); }, 5s));
  EXPECT_TRUE(get(client, "/sleep?s=1.5").ok());
  EXPECT_TRUE(get(client, "/sleep?s=0.01").ok());  // fast: not logged
  ASSERT_TRUE(pm.wait_log("has run 'GET /sleep?s=1.5' for ")) << pm.log();
  std::this_thread::sleep_for(700ms);  // more checks pass over the finished handler
  const std::string log = pm.log();
  EXPECT_EQ(occurrences(log, "has run 'GET /sleep?s=1.5' for "), 1U) << log;
  EXPECT_EQ(occurrences(log, "/sleep?s=0.01"), 0U) << log;
  EXPECT_NE(log.find("(slowlog_timeout 0.3 s)"), std::string::npos) << log;
  EXPECT_EQ(pm.workers().size(), 1U);  // slow is not stuck: nothing is killed
  pm.signal(SIGTERM);
  EXPECT_EQ(pm.wait(10s), 0) << pm.log();
}

TEST(pm, e60_a_worker_scribbling_on_its_scoreboard_is_recycled_and_siblings_serve) {
  const std::vector<std::pair<std::string, std::string>> kinds = {
      {"magic", "not a scoreboard (bad magic)"},
      {"sequence", "slot still being written"},
      {"threads", "threads, more than the page holds"}};
  for (const auto& [kind, reason] : kinds) {
    SCOPED_TRACE(kind);
    const temp_dir dir;
    const std::string sock = dir / "app.sock";
    manager pm(pm_tool, dir,
               {"-R", "-l", "unix:" + sock, "-w", "3", "--min-uptime", "200ms", "--", pm_worker,
                "scribble", dir / "lock", kind, hello_app});
    ASSERT_TRUE(pm.wait_workers(3)) << pm.log();
    ASSERT_TRUE(wait_until([&] { return fs::exists(sock); }, 2s));
    steady_load load("unix:" + sock);
    ASSERT_TRUE(pm.wait_log(reason, 10s)) << pm.log();
    const pid_t bad = pid_before(pm.log(), "replacing worker ", reason);
    ASSERT_GT(bad, 0) << pm.log();
    EXPECT_NE(pm.log().find("its scoreboard cannot be trusted ("), std::string::npos);
    ASSERT_TRUE(pm.wait_log("worker " + std::to_string(bad) + " stopped", 10s)) << pm.log();
    EXPECT_TRUE(pm.wait_workers(3)) << pm.log();
    std::this_thread::sleep_for(500ms);
    load.stop();
    EXPECT_EQ(load.failed(), 0U) << load.failures();
    EXPECT_GT(load.ok(), 0U);
    EXPECT_TRUE(running(pm.pid()));
    EXPECT_EQ(occurrences(pm.log(), reason), 1U) << pm.log();  // replaced once, not again
    pm.signal(SIGTERM);
    EXPECT_EQ(pm.wait(10s), 0) << pm.log();
  }
}

TEST(pm, a_foreign_app_with_max_requests_gets_a_warning_that_it_does_not_report) {
  const temp_dir dir;
  manager pm(pm_tool, dir,
             {"-R", "-l", "unix:" + (dir / "app.sock"), "-w", "2", "--max-requests", "100", "--",
              pm_worker, "pause"});
  ASSERT_TRUE(pm.wait_workers(2)) << pm.log();
  ASSERT_TRUE(
      pm.wait_log("does not report to the scoreboard (not an fcgikit app?): "
                  "max_requests/request_timeout cannot apply",
                  10s))
      << pm.log();
  std::this_thread::sleep_for(1500ms);
  EXPECT_EQ(occurrences(pm.log(), "does not report to the scoreboard"), 1U) << pm.log();
  pm.signal(SIGTERM);
  EXPECT_EQ(pm.wait(10s), 0) << pm.log();
}

}  // namespace

namespace {

/// A request on its own thread; done() once it has an answer.
class request_in_background {
 public:
  request_in_background(const std::string& endpoint, std::string target)
      : thread_([this, endpoint, target = std::move(target)] {
          fcgi::client::client client(endpoint, one_connection_per_call());
          const auto r = get(client, target);
          ok_ = r.ok() && r.out.find("served by") != std::string::npos;
          done_ = true;
        }) {}
  ~request_in_background() { thread_.join(); }
  request_in_background(const request_in_background&) = delete;
  request_in_background& operator=(const request_in_background&) = delete;
  request_in_background(request_in_background&&) = delete;
  request_in_background& operator=(request_in_background&&) = delete;
  [[nodiscard]] bool done() const { return done_; }
  [[nodiscard]] bool ok() const { return ok_; }

 private:
  std::atomic<bool> done_{false};
  std::atomic<bool> ok_{false};
  std::thread thread_;
};

TEST(pm, dynamic_pool_grows_when_its_spare_worker_gets_busy_and_shrinks_back) {
  const temp_dir dir;
  const std::string sock = dir / "app.sock";
  manager pm(
      pm_tool, dir,
      {"-R", "-l", "unix:" + sock, "--mode", "dynamic", "--max-workers", "3", "--min-spare", "1",
       "--max-spare", "1", "--start-workers", "1", "--min-uptime", "200ms", "--", pm_app});
  ASSERT_TRUE(pm.wait_workers(1)) << pm.log();
  ASSERT_TRUE(wait_until([&] { return fs::exists(sock); }, 2s));
  std::this_thread::sleep_for(1500ms);  // attached, idle: no growth
  EXPECT_EQ(pm.workers().size(), 1U) << pm.log();
  {
    const request_in_background slow("unix:" + sock, "/sleep?s=4");
    // The scoreboard shows the busy handler at once: a spare worker starts.
    EXPECT_TRUE(pm.wait_workers(2, 3500ms)) << pm.log();
    EXPECT_NE(
        pm.log().find("0 idle worker(s) (min_spare 1, 0 connection(s) waiting): growing to 2"),
        std::string::npos)
        << pm.log();
    ASSERT_TRUE(wait_until([&] { return slow.done(); }, 10s));
    EXPECT_TRUE(slow.ok());
  }
  // Two idle workers, max_spare 1: one is stopped.
  EXPECT_TRUE(pm.wait_workers(1, 8s)) << pm.log();
  EXPECT_NE(pm.log().find("(max_spare 1): stopping worker"), std::string::npos) << pm.log();
  pm.signal(SIGTERM);
  EXPECT_EQ(pm.wait(10s), 0) << pm.log();
}

/// A port nobody listens on now (the kernel's pick for a socket closed at once).
std::uint16_t free_tcp_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t size = sizeof(address);
  ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));  // NOLINT
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size);     // NOLINT
  ::close(fd);
  return ntohs(address.sin_port);
}

/// A dynamic pool of an app without a scoreboard grows when a connection waits in the
/// socket's queue (sock_diag for unix sockets, TCP_INFO for TCP).
void foreign_dynamic_pool_grows_from_the_queue(const temp_dir& dir, const std::string& endpoint) {
  manager pm(pm_tool, dir,
             {"-R", "-l", endpoint, "--mode", "dynamic", "--max-workers", "3", "--min-spare", "1",
              "--max-spare", "1", "--start-workers", "1", "--min-uptime", "200ms", "--", pm_worker,
              "foreign", pm_app});
  ASSERT_TRUE(pm.wait_workers(1)) << pm.log();
  fcgi::client::client client(endpoint, one_connection_per_call());
  ASSERT_TRUE(wait_until([&] { return get(client).ok(); }, 5s)) << pm.log();
  std::this_thread::sleep_for(1s);
  EXPECT_EQ(pm.workers().size(), 1U) << pm.log();
  {
    // The only worker (one I/O thread) blocks in /sleep; the next connection waits in the
    // socket's queue, which is all the manager can see of an app without a scoreboard.
    const request_in_background slow(endpoint, "/sleep?s=5");
    std::this_thread::sleep_for(1s);  // the worker has taken it
    const auto started = steady::now();
    const auto quick = get(client, "/");
    const auto waited = steady::now() - started;
    EXPECT_TRUE(quick.ok()) << quick.detail;
    EXPECT_LT(waited, 4s);  // served by a new worker, not after the slow one
    std::cout << "dynamic, foreign app on " << endpoint.substr(0, endpoint.find(':'))
              << ": a queued request waited "
              << std::chrono::duration_cast<std::chrono::milliseconds>(waited).count()
              << " ms for a new worker\n";
    EXPECT_NE(pm.log().find("connection(s) waiting): growing to 2"), std::string::npos) << pm.log();
    ASSERT_TRUE(wait_until([&] { return slow.done(); }, 10s));
    EXPECT_TRUE(slow.ok());
  }
  EXPECT_TRUE(pm.wait_workers(1, 8s)) << pm.log();
  pm.signal(SIGTERM);
  EXPECT_EQ(pm.wait(10s), 0) << pm.log();
}

TEST(pm, dynamic_pool_of_a_foreign_app_grows_from_the_listen_queue) {
  const temp_dir dir;
  foreign_dynamic_pool_grows_from_the_queue(dir, "unix:" + (dir / "app.sock"));
}

TEST(pm, dynamic_pool_of_a_foreign_app_on_tcp_grows_from_the_accept_queue) {
  const temp_dir dir;
  foreign_dynamic_pool_grows_from_the_queue(dir,
                                            "tcp:127.0.0.1:" + std::to_string(free_tcp_port()));
}

TEST(pm, ondemand_pool_starts_a_worker_for_a_waiting_connection_and_stops_it_when_idle) {
  const temp_dir dir;
  const std::string sock = dir / "app.sock";
  manager pm(pm_tool, dir,
             {"-R", "-l", "unix:" + sock, "--mode", "ondemand", "--max-workers", "2",
              "--idle-timeout", "1s", "--min-uptime", "200ms", "--", hello_app});
  ASSERT_TRUE(pm.wait_log("on demand (at most 2 worker(s), idle_timeout 1 s)")) << pm.log();
  ASSERT_TRUE(wait_until([&] { return fs::exists(sock); }, 2s));
  std::this_thread::sleep_for(500ms);
  EXPECT_TRUE(pm.workers().empty()) << pm.log();
  fcgi::client::client client("unix:" + sock, one_connection_per_call());
  for (int round = 0; round < 2; ++round) {
    const auto started = steady::now();
    const auto r = get(client);
    const auto took = steady::now() - started;
    EXPECT_TRUE(r.ok()) << r.detail << pm.log();
    std::cout << "ondemand: first request served after "
              << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms\n";
    EXPECT_GE(pm.workers().size(), 1U);
    EXPECT_LE(pm.workers().size(), 2U);
    // Idle past idle_timeout: stopped, and the socket is polled again.
    EXPECT_TRUE(pm.wait_workers(0, 8s)) << pm.log();
  }
  EXPECT_NE(pm.log().find("(idle_timeout 1 s): stopping it"), std::string::npos) << pm.log();
  pm.signal(SIGTERM);
  EXPECT_EQ(pm.wait(10s), 0) << pm.log();
}

}  // namespace

namespace {

TEST(pm, stop_signal_and_status_listen_come_from_the_file) {
  const temp_dir dir;
  const std::string status_sock = dir / "status.sock";
  {
    std::ofstream file(dir / "pm.toml");
    file << "status_listen = \"unix:" << status_sock << "\"\n"
         << "[pool.quiet]\nlisten = \"unix:" << (dir / "app.sock") << "\"\ncommand = [\""
         << pm_worker << "\", \"pause\"]\nworkers = 2\nstop_signal = \"USR1\"\n";
  }
  manager pm(pm_tool, dir, {"-R", "-c", dir / "pm.toml"});
  ASSERT_TRUE(pm.wait_workers(2)) << pm.log();
  ASSERT_TRUE(pm.wait_log("status on unix:" + status_sock)) << pm.log();
  const auto run = fcgi::test::run_tool({pm_tool, "status", "unix:" + status_sock});
  EXPECT_EQ(run.status, 0) << run.err;
  EXPECT_NE(run.out.find("\"name\": \"quiet\""), std::string::npos) << run.out;
  // A graceful stop sends the pool's stop_signal: pm_worker dies of it (default action).
  pm.signal(SIGTERM);
  EXPECT_EQ(pm.wait(10s), 0) << pm.log();
  EXPECT_EQ(occurrences(pm.log(), "was killed by SIGUSR1"), 2U) << pm.log();
  EXPECT_FALSE(fs::exists(status_sock));
}

}  // namespace

namespace {

TEST(pm, an_app_forked_by_a_wrapper_script_is_trusted_with_the_board) {
  const temp_dir dir;
  const std::string sock = dir / "app.sock";
  // "; true" keeps sh from exec'ing: the app is a child of the worker, in its session.
  manager pm(pm_tool, dir,
             {"-R", "-l", "unix:" + sock, "-w", "1", "--min-uptime", "200ms", "--max-requests",
              "1000", "--status-listen", "unix:" + (dir / "status.sock"), "--", "/bin/sh", "-c",
              hello_app + "; true"});
  ASSERT_TRUE(pm.wait_workers(1)) << pm.log();
  nlohmann::json status;
  EXPECT_TRUE(wait_until(
      [&] {
        const auto run = fcgi::test::run_tool({pm_tool, "status", "unix:" + (dir / "status.sock")});
        if (run.status != 0) return false;
        status = nlohmann::json::parse(run.out);
        return status["pools"][0]["workers"]["idle"] == 1;
      },
      8s))
      << status.dump(2) << pm.log();
  EXPECT_EQ(pm.log().find("cannot be trusted"), std::string::npos) << pm.log();
  pm.signal(SIGTERM);
  EXPECT_EQ(pm.wait(10s), 0) << pm.log();
}

}  // namespace
