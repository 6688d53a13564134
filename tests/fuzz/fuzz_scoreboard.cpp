// Fuzz target: the process manager reading a scoreboard page a hostile worker wrote
// (HOSTILE E-60; php-fpm's CVE-2021-21703 was a manager trusting such a page).
//
// Input layout: [control byte][now: 8 bytes][page bytes...], the page zero-padded to its size.
// Control bit 0: expect the pid the page claims (so the fuzzer gets past that check).
//
// Checks (each a trap): the reader never reads outside the page (ASan) and never crashes; an
// accepted page is reported exactly as written (counters), with at most max_threads threads,
// request texts within their capacity and printable, and no time past `now` + 1 s.
#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <string>

#include <fcgi/runtime/scoreboard.hpp>

#include "fuzz_support.hpp"

namespace {

namespace runtime = fcgi::runtime;
namespace layout = runtime::scoreboard_layout;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fcgi_fuzz::input_reader in(data, size);
  const std::uint8_t control = in.byte();
  std::uint64_t now_ns = 0;
  for (int i = 0; i < 8; ++i) now_ns = (now_ns << 8U) | in.byte();
  now_ns &= (std::uint64_t{1} << 62U) - 1;  // a CLOCK_MONOTONIC time is never negative
  alignas(8) static std::array<std::byte, layout::bytes> page;
  page.fill(std::byte{0});
  const auto rest = in.rest();
  std::memcpy(page.data(), rest.data(), std::min(rest.size(), page.size()));
  std::array<std::uint64_t, 9> header{};
  std::memcpy(header.data(), page.data(), sizeof header);
  const auto claimed_pid = static_cast<pid_t>(header[3]);
  const pid_t expected = (control & 1U) != 0 ? claimed_pid : 4242;
  const auto now = std::chrono::nanoseconds(static_cast<std::int64_t>(now_ns));

  const auto result = runtime::read_scoreboard(page.data(), expected, now);
  const auto* snapshot = std::get_if<runtime::scoreboard_snapshot>(&result);
  if (snapshot == nullptr) {
    FCGI_FUZZ_CHECK(!std::get<std::string>(result).empty());
    return 0;
  }
  if (!snapshot->attached) {
    FCGI_FUZZ_CHECK(header[0] == 0 && snapshot->threads.empty());
    return 0;
  }
  FCGI_FUZZ_CHECK(snapshot->requests_completed == header[4]);
  FCGI_FUZZ_CHECK(snapshot->requests_in_flight == header[5]);
  FCGI_FUZZ_CHECK(snapshot->connections == header[6]);
  FCGI_FUZZ_CHECK(snapshot->connections_accepted == header[7]);
  FCGI_FUZZ_CHECK(snapshot->threads.size() == header[2]);
  FCGI_FUZZ_CHECK(snapshot->threads.size() <= layout::max_threads);
  const auto latest = now + std::chrono::seconds(1);
  FCGI_FUZZ_CHECK(snapshot->updated <= latest);
  for (const runtime::scoreboard_thread& t : snapshot->threads) {
    FCGI_FUZZ_CHECK(t.what.size() <= layout::what_capacity);
    FCGI_FUZZ_CHECK(
        std::all_of(t.what.begin(), t.what.end(), [](char c) { return c >= 0x20 && c <= 0x7e; }));
    FCGI_FUZZ_CHECK(t.heartbeat <= latest);
    if (t.handler_started) FCGI_FUZZ_CHECK(*t.handler_started <= latest);
  }
  return 0;
}
