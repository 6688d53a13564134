// The progress line: its rate covers the time since the previous line.
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "progress.hpp"

namespace fcgi::bench {
namespace {

using namespace std::chrono_literals;

TEST(progress, rate_over_the_last_interval) {
  progress_line line;
  progress_snapshot s;
  s.elapsed = 1s;
  s.completed = 1000;
  s.warming_up = true;
  EXPECT_NE(line.format(s).find("warm-up"), std::string::npos);
  s.elapsed = 1500ms;
  s.completed = 3000;  // 2,000 more in 0.5 s
  s.warming_up = false;
  s.failed = 3;
  s.latency.record(2'000'000);
  const std::string text = line.format(s);
  EXPECT_NE(text.find("4000 req/s"), std::string::npos) << text;
  EXPECT_NE(text.find("3 failed"), std::string::npos) << text;
  EXPECT_NE(text.find("p99 2.00 ms"), std::string::npos) << text;
}

}  // namespace
}  // namespace fcgi::bench
