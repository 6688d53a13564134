// The report of a run, text and JSON, from made-up counts.
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include <nlohmann/json.hpp>

#include "report.hpp"

namespace fcgi::bench {
namespace {

using namespace std::chrono_literals;

/// 1,000 requests in 2 s: 990 answered 200, 8 answered 404, one reset, one bad head.
run_result sample_run() {
  run_result r;
  r.elapsed = 2s;
  r.totals.status_classes[2] = 990;
  r.totals.status_classes[4] = 8;
  r.totals.errors[error_slot(client::errc::reset)] = 1;
  r.totals.invalid_heads = 1;
  r.totals.stdout_bytes = 62'000;
  for (std::uint64_t i = 1; i <= 998; ++i) r.totals.latency.record(i * 1000);
  r.pool.connections_opened = 4;
  return r;
}

TEST(report, json_counts_by_kind) {
  load_plan plan;
  plan.endpoint = "unix:/x.sock";
  plan.concurrency = 4;
  const nlohmann::json j =
      nlohmann::json::parse(json_report({plan, "GET", "/hello"}, sample_run()));
  EXPECT_EQ(j["mode"], "closed");
  EXPECT_EQ(j["requests"]["total"], 1000);
  EXPECT_EQ(j["requests"]["responses"], 998);
  EXPECT_EQ(j["requests"]["ok"], 990);
  EXPECT_EQ(j["requests"]["failed"], 2);
  EXPECT_DOUBLE_EQ(j["requests_per_second"].get<double>(), 500.0);
  EXPECT_EQ(j["status"]["4xx"], 8);
  EXPECT_EQ(j["errors"], (nlohmann::json{{"reset", 1}, {"invalid_cgi_head", 1}}));
  EXPECT_EQ(j["latency_ns"]["count"], 998);
  EXPECT_EQ(j["latency_ns"]["max"], 998'000);
  EXPECT_FALSE(j.contains("open_loop"));
  EXPECT_EQ(j["pool"]["connections_opened"], 4);
}

TEST(report, json_open_loop_schedule) {
  load_plan plan;
  plan.rate = 250;
  run_result r = sample_run();
  r.totals.scheduled = 1002;
  r.totals.late = 30;
  r.totals.missed = 2;
  const nlohmann::json j = nlohmann::json::parse(json_report({plan, "GET", "/"}, r));
  EXPECT_EQ(j["mode"], "open");
  EXPECT_EQ(j["open_loop"]["target_rate"], 250.0);
  EXPECT_EQ(j["open_loop"]["late"], 30);
  EXPECT_EQ(j["open_loop"]["missed"], 2);
}

TEST(report, text_names_every_failure_kind) {
  load_plan plan;
  plan.endpoint = "unix:/x.sock";
  const std::string text = text_report({plan, "POST", "/upload"}, sample_run());
  for (const char* line : {"unix:/x.sock  POST /upload", "1,000 in 2.00 s, 500 req/s",
                           "2xx 990 4xx 8", "reset", "invalid_cgi_head", "p99.9", "4 opened"})
    EXPECT_NE(text.find(line), std::string::npos) << line << " in:\n" << text;
}

TEST(report, ok_means_2xx_or_3xx_only) {
  run_result r = sample_run();
  EXPECT_FALSE(all_ok(r.totals));
  tally clean;
  clean.status_classes[2] = 5;
  clean.status_classes[3] = 1;
  EXPECT_TRUE(all_ok(clean));
  EXPECT_TRUE(all_ok(tally{}));  // nothing measured, nothing failed
}

TEST(report, latency_units) {
  EXPECT_EQ(format_latency(850), "850 ns");
  EXPECT_EQ(format_latency(12'345), "12.3 us");
  EXPECT_EQ(format_latency(123'456), "123 us");
  EXPECT_EQ(format_latency(1'234'567), "1.23 ms");
  EXPECT_EQ(format_latency(2.5e9), "2.50 s");
}

}  // namespace
}  // namespace fcgi::bench
