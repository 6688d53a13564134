// The parts of spawning that run in the manager before fork: environment, identity, program
// lookup. (Forking is tested with real processes in tests/integration/pm_test.cpp.)
#include <fcgi/pm/spawn.hpp>

#include <unistd.h>

#include <gtest/gtest.h>

namespace {

fcgi::pm::pool_config pool_with(std::vector<std::string> allow,
                                std::vector<std::pair<std::string, std::string>> env = {}) {
  fcgi::pm::pool_config pool;
  pool.name = "app";
  pool.command = {"/bin/app"};
  pool.env_allow = std::move(allow);
  pool.env = std::move(env);
  return pool;
}

TEST(pm_spawn, environment_is_only_the_allowlist_and_explicit_vars) {
  const std::vector<std::string> manager = {"PATH=/usr/bin", "SECRET=hunter2", "LANG=C.UTF-8",
                                            "PATHX=no", "LISTEN_FDS=3"};
  const auto env = fcgi::pm::build_environment(
      pool_with({"PATH", "LANG", "MISSING"}, {{"APP_ENV", "prod"}, {"LANG", "fr_FR"}}), manager);
  EXPECT_EQ(env, (std::vector<std::string>{"PATH=/usr/bin", "LANG=fr_FR", "APP_ENV=prod"}));
}

TEST(pm_spawn, allowed_clients_become_fcgi_web_server_addrs) {
  auto pool = pool_with({});
  pool.allowed_clients = {"127.0.0.1", "::1"};
  EXPECT_EQ(fcgi::pm::build_environment(pool, {"FCGI_WEB_SERVER_ADDRS=10.0.0.1"}),
            (std::vector<std::string>{"FCGI_WEB_SERVER_ADDRS=127.0.0.1,::1"}));
  EXPECT_TRUE(fcgi::pm::build_environment(pool_with({}), {"FCGI_WEB_SERVER_ADDRS=x"}).empty());
}

TEST(pm_spawn, identity_of_a_user_and_of_nobody) {
  auto pool = pool_with({});
  EXPECT_FALSE(fcgi::pm::resolve_identity(pool).change);
  pool.user = "nobody";
  const auto who = fcgi::pm::resolve_identity(pool);
  EXPECT_TRUE(who.change);
  EXPECT_EQ(who.uid, 65534U);
  EXPECT_EQ(who.user_name, "nobody");
  EXPECT_FALSE(who.groups.empty());
  pool.user = "no-such-user-fcgi";
  try {
    fcgi::pm::resolve_identity(pool);
    ADD_FAILURE() << "unknown user accepted";
  } catch (const fcgi::pm::config_error& e) {
    EXPECT_NE(std::string(e.what()).find("no user named 'no-such-user-fcgi'"), std::string::npos);
  }
  pool.user = "nobody";
  pool.group = "no-such-group-fcgi";
  EXPECT_THROW(fcgi::pm::resolve_identity(pool), fcgi::pm::config_error);
  pool.user.reset();
  pool.group = "root";
  EXPECT_THROW(fcgi::pm::resolve_identity(pool), fcgi::pm::config_error);  // group without user
}

TEST(pm_spawn, program_is_found_in_path_unless_it_has_a_slash) {
  auto pool = pool_with({});
  pool.command = {"sh"};
  const std::string found = fcgi::pm::resolve_program(pool);
  EXPECT_TRUE(found.ends_with("/sh")) << found;
  EXPECT_EQ(::access(found.c_str(), X_OK), 0);
  pool.command = {"./app"};
  EXPECT_EQ(fcgi::pm::resolve_program(pool), "./app");
  pool.command = {"no-such-program-fcgi"};
  EXPECT_EQ(fcgi::pm::resolve_program(pool), "no-such-program-fcgi");
}

TEST(pm_spawn, plan_keeps_argv_and_environment) {
  auto pool = pool_with({});
  pool.command = {"/bin/app", "--one", "two"};
  const fcgi::pm::spawn_plan plan(pool, {}, {"A=1"});
  EXPECT_EQ(plan.program(), "/bin/app");
  EXPECT_EQ(plan.environment(), (std::vector<std::string>{"A=1"}));
}

}  // namespace
