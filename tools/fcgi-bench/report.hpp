// The final report of a run: for people (text) or for scripts (JSON, one object).
#pragma once

#include <cstdint>
#include <string>

#include "load.hpp"

namespace fcgi::bench {

/// What the report says about the request, beside the plan.
struct report_context {
  const load_plan& plan;
  std::string method;  ///< as sent (REQUEST_METHOD), or empty without CGI params
  std::string target;
};

/// Every measured request was answered with a 2xx or 3xx status.
[[nodiscard]] bool all_ok(const tally& t) noexcept;
[[nodiscard]] std::uint64_t ok_count(const tally& t) noexcept;

/// Several lines, ending with a newline.
std::string text_report(const report_context& context, const run_result& result);
/// One JSON object (pretty-printed), ending with a newline. Keys: see docs/fcgi-bench.md.
std::string json_report(const report_context& context, const run_result& result);

/// "850 ns", "12.3 us", "123 us", "1.23 ms", "2.50 s": three significant digits.
std::string format_latency(double nanoseconds);

}  // namespace fcgi::bench
