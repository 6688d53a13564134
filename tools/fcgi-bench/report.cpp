#include "report.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace fcgi::bench {

namespace {

struct percentile_point {
  const char* label;     ///< in the text report
  const char* json_key;  ///< in latency_ns
  double percent;
};
constexpr std::array<percentile_point, 4> percentiles = {{
    {"p50", "p50", 50.0},
    {"p90", "p90", 90.0},
    {"p99", "p99", 99.0},
    {"p99.9", "p99_9", 99.9},
}};

std::string printf_string(const char* format, double value) {
  std::array<char, 64> buffer{};
  const int n = std::snprintf(buffer.data(), buffer.size(), format, value);
  return {buffer.data(), static_cast<std::size_t>(std::max(n, 0))};
}

/// 1234567 -> "1,234,567".
std::string grouped(std::uint64_t n) {
  std::string digits = std::to_string(n);
  for (std::size_t i = digits.size(); i > 3; i -= 3) digits.insert(i - 3, 1, ',');
  return digits;
}

std::string format_rate(double per_second) {
  return per_second >= 100 ? grouped(static_cast<std::uint64_t>(std::llround(per_second)))
                           : printf_string("%.1f", per_second);
}

std::string format_bytes(double bytes) {
  constexpr std::array<const char*, 4> units = {"B", "KiB", "MiB", "GiB"};
  std::size_t unit = 0;
  while (bytes >= 1024 && unit + 1 < units.size()) {
    bytes /= 1024;
    ++unit;
  }
  return (unit == 0 ? printf_string("%.0f", bytes) : printf_string("%.2f", bytes)) + " " +
         units[unit];
}

double seconds_of(std::chrono::nanoseconds d) { return static_cast<double>(d.count()) / 1e9; }

double per_second(std::uint64_t n, std::chrono::nanoseconds elapsed) {
  return elapsed.count() > 0 ? static_cast<double>(n) / seconds_of(elapsed) : 0.0;
}

const char* mpx_name(client::multiplexing m) {
  switch (m) {
    case client::multiplexing::probe: return "probe";
    case client::multiplexing::on: return "on";
    case client::multiplexing::off: return "off";
  }
  return "?";
}

/// The enumerator's name: a stable key for scripts (client::to_string gives a sentence).
std::string_view errc_name(client::errc e) {
  using client::errc;
  switch (e) {  // no default: a new errc value must be named here (-Wswitch)
    case errc::invalid_endpoint: return "invalid_endpoint";
    case errc::refused: return "refused";
    case errc::connect_timeout: return "connect_timeout";
    case errc::reset: return "reset";
    case errc::closed_before_end: return "closed_before_end";
    case errc::protocol_violation: return "protocol_violation";
    case errc::first_byte_timeout: return "first_byte_timeout";
    case errc::idle_timeout: return "idle_timeout";
    case errc::total_timeout: return "total_timeout";
    case errc::cancelled: return "cancelled";
    case errc::body_read_failed: return "body_read_failed";
    case errc::invalid_request: return "invalid_request";
    case errc::cant_mpx_conn: return "cant_mpx_conn";
    case errc::overloaded: return "overloaded";
    case errc::unknown_role: return "unknown_role";
    case errc::unknown_protocol_status: return "unknown_protocol_status";
    case errc::pool_closed: return "pool_closed";
    case errc::response_too_large: return "response_too_large";
  }
  return "other";
}

struct failure_kind {
  std::string_view name;
  std::string_view meaning;
  std::uint64_t count;
};

/// The failures by kind, in errc order, then invalid CGI heads, then errors of another
/// category.
std::vector<failure_kind> failures_of(const tally& t) {
  std::vector<failure_kind> out;
  for (std::size_t slot = 1; slot < t.errors.size(); ++slot) {
    if (t.errors[slot] == 0) continue;
    const auto code = static_cast<client::errc>(slot);
    out.push_back({errc_name(code), client::to_string(code), t.errors[slot]});
  }
  if (t.invalid_heads > 0) {
    out.push_back(
        {"invalid_cgi_head", "STDOUT did not start with a CGI response head", t.invalid_heads});
  }
  if (t.errors[0] > 0) out.push_back({"other", "an error outside fcgi.client", t.errors[0]});
  return out;
}

std::string loop_description(const report_context& c, const run_result& r) {
  const load_plan& p = c.plan;
  std::string text = p.rate > 0 ? "open loop at " + format_rate(p.rate) + " req/s, at most " +
                                      std::to_string(p.concurrency) + " in flight"
                                : "closed loop, " + std::to_string(p.concurrency) + " in flight";
  text += p.threads == 1 ? ", 1 thread" : ", " + std::to_string(p.threads) + " threads";
  text += ", " + std::to_string(p.connections) +
          (p.connections == 1 ? " connection" : " connections") + " at most";
  text += std::string(", multiplexing ") + (r.pool.multiplexing ? "on" : "off");
  if (p.mpx == client::multiplexing::probe)
    text += r.pool.probe_answered ? " (probed)" : " (probe unanswered)";
  if (!p.keep_conn) text += ", a connection per request";
  return text;
}

}  // namespace

std::uint64_t ok_count(const tally& t) noexcept {
  return t.status_classes[2] + t.status_classes[3];
}

bool all_ok(const tally& t) noexcept { return ok_count(t) == t.completed(); }

std::string format_latency(double nanoseconds) {
  constexpr std::array<std::pair<double, const char*>, 3> units = {
      {{1e9, "s"}, {1e6, "ms"}, {1e3, "us"}}};
  for (const auto& [scale, name] : units) {
    if (nanoseconds < scale) continue;
    const double value = nanoseconds / scale;
    const char* format = value >= 100 ? "%.0f " : value >= 10 ? "%.1f " : "%.2f ";
    return printf_string(format, value) + name;
  }
  return printf_string("%.0f ns", nanoseconds);
}

std::string text_report(const report_context& c, const run_result& r) {
  const tally& t = r.totals;
  const load_plan& p = c.plan;
  std::string out = "fcgi-bench " + p.endpoint;
  if (!c.method.empty()) out += "  " + c.method + " " + c.target;
  out += "\n  " + loop_description(c, r) + "\n";
  out += "  " + printf_string("%.2f", seconds_of(r.elapsed)) + " s measured";
  if (p.warmup.count() > 0)
    out += " after a " + printf_string("%.2f", seconds_of(p.warmup)) + " s warm-up";
  if (r.interrupted) out += " (interrupted)";
  out += "\n\n";

  out += "  requests    " + grouped(t.completed()) + " in " +
         printf_string("%.2f", seconds_of(r.elapsed)) + " s, " +
         format_rate(per_second(t.completed(), r.elapsed)) + " req/s\n";
  out += "  status     ";
  for (std::size_t i = 1; i < t.status_classes.size(); ++i) {
    if (t.status_classes[i] > 0)
      out += " " + std::to_string(i) + "xx " + grouped(t.status_classes[i]);
  }
  if (t.responses() == 0) out += " no responses";
  out += "\n  failed     ";
  const std::vector<failure_kind> failures = failures_of(t);
  if (failures.empty()) out += " none\n";
  for (std::size_t i = 0; i < failures.size(); ++i) {
    const failure_kind& f = failures[i];
    std::string name(f.name);
    name.resize(std::max<std::size_t>(name.size(), 24), ' ');
    out += std::string(i == 0 ? " " : "              ") + name + " " + grouped(f.count) + "  " +
           std::string(f.meaning) + "\n";
  }
  if (p.rate > 0) {
    out += "  schedule    " + grouped(t.scheduled) + " scheduled, " + grouped(t.late) + " late, " +
           grouped(t.missed) + " missed\n";
  }
  out += "  received    " + format_bytes(per_second(t.stdout_bytes, r.elapsed)) + "/s STDOUT (" +
         format_bytes(static_cast<double>(t.stdout_bytes)) + ")";
  if (t.stderr_bytes > 0)
    out += ", " + format_bytes(static_cast<double>(t.stderr_bytes)) + " STDERR";
  out += "\n  connections " + grouped(r.pool.connections_opened) + " opened\n\n";

  const latency_histogram& h = t.latency;
  if (h.count() == 0) {
    out += "  latency     no responses\n";
    return out;
  }
  out += std::string("  latency") + (p.rate > 0 ? " from the intended start" : "") + " (" +
         grouped(h.count()) + " responses)\n";
  out += "    mean " + format_latency(h.mean()) + ", stddev " + format_latency(h.stddev()) +
         ", min " + format_latency(static_cast<double>(h.min())) + "\n";
  for (const percentile_point& pp : percentiles) {
    out += "    " + std::string(pp.label) +
           std::string(7 - std::string_view(pp.label).size(), ' ') +
           format_latency(static_cast<double>(h.percentile(pp.percent))) + "\n";
  }
  out += "    max    " + format_latency(static_cast<double>(h.max())) + "\n";
  return out;
}

std::string json_report(const report_context& c, const run_result& r) {
  using json = nlohmann::ordered_json;
  const tally& t = r.totals;
  const load_plan& p = c.plan;
  json report;
  report["endpoint"] = p.endpoint;
  report["method"] = c.method;
  report["target"] = c.target;
  report["mode"] = p.rate > 0 ? "open" : "closed";
  report["threads"] = p.threads;
  report["concurrency"] = p.concurrency;
  report["connections"] = p.connections;
  report["mpx"] = mpx_name(p.mpx);
  report["keep_conn"] = p.keep_conn;
  report["warmup_s"] = seconds_of(p.warmup);
  report["duration_s"] = seconds_of(r.elapsed);
  report["interrupted"] = r.interrupted;
  report["requests"] = {{"total", t.completed()},
                        {"ok", ok_count(t)},
                        {"responses", t.responses()},
                        {"failed", t.failed()}};
  report["requests_per_second"] = per_second(t.completed(), r.elapsed);
  report["bytes"] = {{"stdout", t.stdout_bytes}, {"stderr", t.stderr_bytes}};
  report["stdout_bytes_per_second"] = per_second(t.stdout_bytes, r.elapsed);
  json status = json::object();
  for (std::size_t i = 1; i < t.status_classes.size(); ++i)
    status[std::to_string(i) + "xx"] = t.status_classes[i];
  report["status"] = status;
  json errors = json::object();
  for (const failure_kind& f : failures_of(t)) errors[std::string(f.name)] = f.count;
  report["errors"] = errors;
  const latency_histogram& h = t.latency;
  json latency = {
      {"count", h.count()}, {"min", h.min()}, {"mean", h.mean()}, {"stddev", h.stddev()}};
  for (const percentile_point& pp : percentiles) latency[pp.json_key] = h.percentile(pp.percent);
  latency["max"] = h.max();
  report["latency_ns"] = latency;
  if (p.rate > 0) {
    report["open_loop"] = {{"target_rate", p.rate},
                           {"scheduled", t.scheduled},
                           {"late", t.late},
                           {"missed", t.missed}};
  }
  report["pool"] = {
      {"multiplexing", r.pool.multiplexing},     {"probed", r.pool.probed},
      {"probe_answered", r.pool.probe_answered}, {"app_max_conns", r.pool.app_max_conns},
      {"app_max_reqs", r.pool.app_max_reqs},     {"connections_opened", r.pool.connections_opened}};
  return report.dump(2) + "\n";
}

}  // namespace fcgi::bench
