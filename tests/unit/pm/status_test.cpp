#include <fcgi/pm/status.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace {

using namespace std::chrono_literals;

fcgi::pm::manager_status sample(fcgi::pm::clock::time_point t0) {
  fcgi::pm::manager_status status;
  status.pid = 41;
  status.started = t0;
  status.reloads = 2;
  fcgi::pm::pool_status pool;
  pool.name = "shop";
  pool.listen = "unix:/run/shop.sock";
  pool.configured = 3;
  pool.restarts = 5;
  pool.restarts_by_reason = {{"crash", 2}, {"max_requests", 3}};
  pool.requests = 1234;
  pool.slow_requests = 7;
  pool.failed_starts_in_a_row = 1;
  pool.generation = 2;
  pool.workers = {{100, "busy", t0 + 1s, 2, 1000},
                  {101, "starting", t0 + 9s, 2, 0},
                  {90, "stopping", t0, 1, 9}};
  status.pools.push_back(pool);
  return status;
}

TEST(pm_status, json_has_workers_by_state_and_each_process) {
  const auto t0 = fcgi::pm::clock::time_point{} + 1000s;
  const auto json = nlohmann::json::parse(fcgi::pm::to_json(sample(t0), t0 + 10s));
  EXPECT_EQ(json["pid"], 41);
  EXPECT_DOUBLE_EQ(json["uptime_seconds"].get<double>(), 10.0);
  EXPECT_EQ(json["reloads"], 2);
  const auto& pool = json["pools"][0];
  EXPECT_EQ(pool["name"], "shop");
  EXPECT_EQ(pool["workers_configured"], 3);
  EXPECT_EQ(pool["workers"]["running"], 1);
  EXPECT_EQ(pool["workers"]["busy"], 1);
  EXPECT_EQ(pool["workers"]["idle"], 0);
  EXPECT_EQ(pool["workers"]["unknown"], 0);
  EXPECT_EQ(pool["requests"], 1234);
  EXPECT_EQ(pool["slow_requests"], 7);
  EXPECT_EQ(pool["restarts_by_reason"]["crash"], 2);
  EXPECT_EQ(pool["restarts_by_reason"]["max_requests"], 3);
  EXPECT_EQ(pool["restarts_by_reason"]["request_timeout"], 0);
  EXPECT_EQ(pool["workers"]["starting"], 1);
  EXPECT_EQ(pool["workers"]["stopping"], 1);
  EXPECT_EQ(pool["restarts"], 5);
  EXPECT_EQ(pool["failed_starts_in_a_row"], 1);
  ASSERT_EQ(pool["processes"].size(), 3U);
  EXPECT_EQ(pool["processes"][0]["pid"], 100);
  EXPECT_EQ(pool["processes"][0]["requests"], 1000);
  EXPECT_DOUBLE_EQ(pool["processes"][0]["uptime_seconds"].get<double>(), 9.0);
}

TEST(pm_status, prometheus_text_has_one_sample_per_pool_and_state) {
  const auto t0 = fcgi::pm::clock::time_point{} + 1000s;
  auto status = sample(t0);
  status.pools[0].name = "we\"ird";
  const std::string text = fcgi::pm::to_prometheus(status, t0 + 10s);
  EXPECT_NE(text.find("# TYPE fcgi_pm_workers gauge\n"), std::string::npos) << text;
  EXPECT_NE(text.find("fcgi_pm_workers{pool=\"we\\\"ird\",state=\"busy\"} 1\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("fcgi_pm_workers{pool=\"we\\\"ird\",state=\"idle\"} 0\n"), std::string::npos);
  EXPECT_NE(text.find("fcgi_pm_restarts_total{pool=\"we\\\"ird\",reason=\"max_requests\"} 3\n"),
            std::string::npos);
  EXPECT_NE(text.find("fcgi_pm_requests_total{pool=\"we\\\"ird\"} 1234\n"), std::string::npos);
  EXPECT_NE(text.find("fcgi_pm_slow_requests_total{pool=\"we\\\"ird\"} 7\n"), std::string::npos);
  EXPECT_NE(text.find("fcgi_pm_worker_requests_total{pool=\"we\\\"ird\",pid=\"100\"} 1000\n"),
            std::string::npos);
  EXPECT_NE(text.find("fcgi_pm_reloads_total 2\n"), std::string::npos);
  EXPECT_NE(text.find("fcgi_pm_uptime_seconds 10."), std::string::npos);
}

}  // namespace
