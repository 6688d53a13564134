// fcgi-pm running applications that are not ours, unchanged: an fcgi2 (libfcgi) app and a Go
// net/http/fcgi app, both serving the socket they inherit on fd 0. A test whose app was not
// built (libfcgi-dev or golang-go missing) is skipped and names the package.
#include <csignal>
#include <string>

#include <gtest/gtest.h>

#include "../integration/pm_harness.hpp"

namespace {

using namespace fcgi::test::pm;

struct foreign_app {
  const char* name;
  const char* package;
  const char* path;  ///< empty when not built
  const char* greeting;
};

const char* fcgi2_app() {
#ifdef FCGI_INTEROP_FCGI2_APP
  return FCGI_INTEROP_FCGI2_APP;
#else
  return "";
#endif
}

const char* go_app() {
#ifdef FCGI_INTEROP_GO_APP
  return FCGI_INTEROP_GO_APP;
#else
  return "";
#endif
}

class pm_interop : public ::testing::TestWithParam<foreign_app> {};

TEST_P(pm_interop, serves_respawns_reloads_and_stops) {
  const foreign_app& app = GetParam();
  if (std::string(app.path).empty()) GTEST_SKIP() << "not built; install " << app.package;
  const temp_dir dir;
  const std::string sock = dir / "app.sock";
  manager pm(FCGI_PM_TOOL, dir,
             {"-R", "-l", "unix:" + sock, "-w", "3", "--min-uptime", "200ms", "--", app.path});
  ASSERT_TRUE(pm.wait_workers(3)) << pm.log();
  ASSERT_TRUE(wait_until([&] { return fs::exists(sock); }, 2s));
  fcgi::client::client client("unix:" + sock, one_connection_per_call());
  for (int i = 0; i < 20; ++i) {
    const auto r = get(client, "/app?op=hello");
    ASSERT_TRUE(r.ok()) << r.detail;
    EXPECT_NE(r.out.find(app.greeting), std::string::npos) << r.out;
  }
  const pid_t victim = pm.workers()[0];
  ::kill(victim, SIGKILL);
  ASSERT_TRUE(wait_until(
      [&] {
        const auto now = pm.workers();
        return now.size() == 3 && std::find(now.begin(), now.end(), victim) == now.end();
      },
      5s));
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(get(client, "/app?op=hello").ok());
  // Reload with idle workers: neither app finishes in-flight requests on SIGTERM (docs/fcgi-pm.md).
  const auto before = pm.workers();
  pm.signal(SIGHUP);
  ASSERT_TRUE(wait_until(
      [&] {
        const auto now = pm.workers();
        return now.size() == 3 && std::none_of(now.begin(), now.end(), [&](pid_t w) {
                 return std::find(before.begin(), before.end(), w) != before.end();
               });
      },
      6s))
      << pm.log();
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(get(client, "/app?op=hello").ok());
  pm.signal(SIGTERM);
  EXPECT_EQ(pm.wait(5s), 0) << pm.log();
  EXPECT_FALSE(fs::exists(sock));
}

INSTANTIATE_TEST_SUITE_P(
    apps, pm_interop,
    ::testing::Values(foreign_app{"fcgi2", "libfcgi-dev", fcgi2_app(), "hello from fcgi2"},
                      foreign_app{"go", "golang-go", go_app(), "hello from go"}),
    [](const auto& test) { return std::string(test.param.name); });

}  // namespace
