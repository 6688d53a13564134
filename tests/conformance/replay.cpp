#include "replay.hpp"

#include <algorithm>
#include <array>
#include <set>
#include <span>
#include <sstream>

#include <fcgi/test/scripted_feed.hpp>

namespace fcgi::conformance {
namespace {

using protocol::errc;

constexpr std::size_t large_input = 4096;
constexpr std::size_t three_way_limit = 2048;
constexpr std::size_t three_way_samples = 240;
// Calls that write this much are replayed with fewer three-way cuts: the cuts only exercise
// the input, and each replay repeats the large write.
constexpr std::size_t large_calls = 64 * 1024;
constexpr std::size_t three_way_samples_with_large_calls = 16;

std::string errc_text(errc e) { return e == errc{} ? "ok" : std::string(protocol::to_string(e)); }

template <class Driver>
void feed(Driver& d, const test::bytes& input, const split_plan& plan) {
  const std::array cuts{plan.first, plan.second};
  switch (plan.how) {
    case split_plan::kind::whole: d.feed(input); return;
    case split_plan::kind::two: d.feed_split(input, std::span(cuts).first(1)); return;
    case split_plan::kind::three: d.feed_split(input, cuts); return;
    case split_plan::kind::one_byte: d.feed_one_byte_at_a_time(input); return;
  }
}

void append_lines(std::ostringstream& out, const char* prefix,
                  const std::vector<std::string>& lines) {
  if (lines.empty()) out << "    (none)\n";
  for (const std::string& l : lines) out << "    " << prefix << l << "\n";
}

std::string difference(const char* what, const char* prefix,
                       const std::vector<std::string>& expected,
                       const std::vector<std::string>& actual) {
  std::ostringstream out;
  out << what << " differ\n  expected:\n";
  append_lines(out, prefix, expected);
  out << "  actual:\n";
  append_lines(out, prefix, actual);
  return out.str();
}

/// Resolves a key_ref against the keys the driver has seen.
template <class Driver>
std::optional<protocol::request_key> resolve(Driver& d, const key_ref& k) {
  return d.key(k.id, k.ordinal);
}

std::optional<std::string> result_mismatch(const action& a, const std::string& actual) {
  if (actual == a.expect) return std::nullopt;
  return "action returned " + actual + ", expected " + a.expect;
}

std::optional<std::string> perform(test::app_driver& d, const action& a) {
  const auto key = resolve(d, a.key);
  if (!key) return "no request has been seen on id " + std::to_string(a.key.id);
  protocol::app_connection& c = d.connection();
  const protocol::bytes_view payload = protocol::as_bytes(a.payload);
  errc e{};
  if (a.verb == "write_stdout") {
    e = c.write_stdout(*key, payload);
  } else if (a.verb == "write_stderr") {
    e = c.write_stderr(*key, payload);
  } else if (a.verb == "write_stdout_reference") {
    e = c.write_stdout_reference(*key, payload);
  } else if (a.verb == "end_request") {
    e = c.end_request(*key, a.number);
  } else if (a.verb == "reject_request") {
    e = c.reject_request(*key, static_cast<protocol::protocol_status>(a.status));
  }
  return result_mismatch(a, errc_text(e));
}

std::optional<std::string> perform(test::client_driver& d, const action& a) {
  protocol::client_connection& c = d.connection();
  if (a.verb == "begin") {
    const auto r = c.begin_request(static_cast<protocol::role>(a.role), a.keep_conn);
    if (!r) return result_mismatch(a, errc_text(r.error()));
    d.keys().remember(*r);
    return result_mismatch(a, std::to_string(r->id));
  }
  if (a.verb == "get_values") {
    std::vector<std::string_view> names(a.names.begin(), a.names.end());
    return result_mismatch(a, errc_text(c.query_values(names)));
  }
  const auto key = resolve(d, a.key);
  if (!key) return "no request has been begun on id " + std::to_string(a.key.id);
  const protocol::bytes_view payload = protocol::as_bytes(a.payload);
  errc e{};
  if (a.verb == "params") {
    std::vector<protocol::param> list;
    for (const auto& [name, value] : a.pairs) list.push_back({name, value});
    e = c.send_params(*key, list);
  } else if (a.verb == "end_params") {
    e = c.end_params(*key);
  } else if (a.verb == "stdin") {
    e = c.send_stdin(*key, payload);
  } else if (a.verb == "stdin_reference") {
    e = c.send_stdin_reference(*key, payload);
  } else if (a.verb == "end_stdin") {
    e = c.end_stdin(*key);
  } else if (a.verb == "data") {
    e = c.send_data(*key, payload);
  } else if (a.verb == "end_data") {
    e = c.end_data(*key);
  } else if (a.verb == "abort") {
    e = c.abort_request(*key);
  }
  return result_mismatch(a, errc_text(e));
}

std::optional<std::uint64_t> state_value(test::app_driver& d, const std::string& name) {
  const protocol::app_connection& c = d.connection();
  const protocol::app_connection_stats& s = c.stats();
  if (name == "wants_close") return c.wants_close() ? 1 : 0;
  if (name == "failed") return c.failed() ? 1 : 0;
  if (name == "active") return c.active_requests();
  if (name == "records") return s.records;
  if (name == "ignored_records") return s.ignored_records;
  if (name == "unknown_type_records") return s.unknown_type_records;
  if (name == "requests_started") return s.requests_started;
  if (name == "requests_rejected") return s.requests_rejected;
  if (name == "requests_failed") return s.requests_failed;
  if (name == "get_values") return s.get_values;
  return std::nullopt;
}

std::optional<std::uint64_t> state_value(test::client_driver& d, const std::string& name) {
  const protocol::client_connection& c = d.connection();
  const protocol::client_connection_stats& s = c.stats();
  if (name == "failed") return c.failed() ? 1 : 0;
  if (name == "active") return c.active_requests();
  if (name == "reusable") return c.reusable() ? 1 : 0;
  if (name == "records") return s.records;
  if (name == "ignored_records") return s.ignored_records;
  if (name == "requests_started") return s.requests_started;
  if (name == "requests_ended") return s.requests_ended;
  return std::nullopt;
}

template <class Driver>
std::optional<std::string> evaluate(Driver& d, const check& c) {
  for (const auto& [name, expected] : c.items) {
    const std::optional<std::uint64_t> actual = state_value(d, name);
    if (!actual) return "unknown check '" + name + "' for this side";
    if (*actual != expected) {
      return "check " + name + "=" + std::to_string(expected) + " failed: it is " +
             std::to_string(*actual);
    }
  }
  return std::nullopt;
}

template <class Driver>
std::optional<std::string> run(const transcript& t, Driver& d, const split_plan& plan) {
  for (const step& s : t.steps) {
    feed(d, s.input, plan);
    const std::vector<std::string> events = d.take_events();
    const std::vector<std::string> output = d.take_output_text();
    std::string problem;
    if (events != s.events) problem += difference("events", "= ", s.events, events);
    if (output != s.output) problem += difference("output records", "< ", s.output, output);
    if (problem.empty() && s.act) {
      if (auto p = perform(d, *s.act)) problem = "! " + s.act->text + "\n  " + *p + "\n";
    }
    if (problem.empty() && s.chk) {
      if (auto p = evaluate(d, *s.chk)) problem = "? " + s.chk->text + "\n  " + *p + "\n";
    }
    if (!problem.empty()) {
      return "in the part ending at line " + std::to_string(s.line) + ":\n" + problem;
    }
  }
  return std::nullopt;
}

/// Offsets worth cutting a large input at: both ends, around a sample of record boundaries
/// (inside and at the end of the header, into the content), and evenly spaced in between.
std::set<std::size_t> sampled_offsets(const step& s) {
  constexpr std::size_t edge = 32;
  constexpr std::size_t samples = 32;
  std::set<std::size_t> out;
  const std::size_t n = s.input.size();
  for (std::size_t i = 1; i < std::min(n, edge); ++i) out.insert(i);
  for (std::size_t i = n > edge ? n - edge : 1; i < n; ++i) out.insert(i);
  const std::size_t stride = std::max<std::size_t>(1, s.boundaries.size() / samples);
  for (std::size_t b = 0; b < s.boundaries.size(); b += stride) {
    // Just before the header, inside it, at its end, one byte into the content.
    for (const std::size_t delta : std::array<std::size_t, 6>{0, 2, 5, 8, 9, 10}) {
      const std::size_t at = s.boundaries[b] + delta;  // one past the cut
      if (at >= 1 && at <= n) out.insert(at - 1);
    }
  }
  for (std::size_t k = 1; k < samples; ++k) out.insert(n * k / samples);
  out.erase(0);
  return out;
}

/// A fixed pseudo-random sample of cut pairs below `longest`, so failures reproduce.
std::set<std::pair<std::size_t, std::size_t>> three_way_cuts(const transcript& t,
                                                             std::size_t longest) {
  std::size_t call_bytes = 0;
  for (const step& s : t.steps) call_bytes += s.act ? s.act->payload.size() : 0;
  const std::size_t samples =
      call_bytes > large_calls ? three_way_samples_with_large_calls : three_way_samples;
  const std::size_t wanted = std::min(samples, (longest - 1) * (longest - 2) / 2);
  std::set<std::pair<std::size_t, std::size_t>> pairs;
  std::uint64_t state = 0x9e3779b97f4a7c15ULL;
  const auto next = [&state, longest] {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return 1 + static_cast<std::size_t>(state >> 33U) % (longest - 1);
  };
  while (pairs.size() < wanted) {
    const std::size_t a = next();
    const std::size_t b = next();
    if (a != b) pairs.emplace(std::min(a, b), std::max(a, b));
  }
  return pairs;
}

}  // namespace

std::string split_plan::describe() const {
  switch (how) {
    case kind::whole: return "whole input in one read";
    case kind::two: return "input cut in two at offset " + std::to_string(first);
    case kind::three:
      return "input cut in three at offsets " + std::to_string(first) + " and " +
             std::to_string(second);
    case kind::one_byte: return "input fed one byte at a time";
  }
  return "?";
}

std::vector<split_plan> plans_for(const transcript& t) {
  std::vector<split_plan> plans{{split_plan::kind::whole}, {split_plan::kind::one_byte}};
  std::set<std::size_t> cuts;
  std::size_t longest = 0;
  for (const step& s : t.steps) {
    longest = std::max(longest, s.input.size());
    if (s.input.size() <= large_input) {
      for (std::size_t i = 1; i < s.input.size(); ++i) cuts.insert(i);
    } else {
      cuts.merge(sampled_offsets(s));
    }
  }
  for (const std::size_t c : cuts) plans.push_back({split_plan::kind::two, c});
  if (t.input_size() <= three_way_limit && longest > 2) {
    for (const auto& [a, b] : three_way_cuts(t, longest)) {
      plans.push_back({split_plan::kind::three, a, b});
    }
  }
  return plans;
}

std::optional<std::string> replay(const transcript& t, const split_plan& plan) {
  if (t.which == side::app) {
    test::app_driver d(t.app);
    return run(t, d, plan);
  }
  test::client_driver d(t.client);
  return run(t, d, plan);
}

}  // namespace fcgi::conformance
