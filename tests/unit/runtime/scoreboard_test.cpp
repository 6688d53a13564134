// The scoreboard page between a worker and its process manager, and what the manager does
// with a page a hostile worker wrote (HOSTILE E-60).
#include <fcgi/runtime/scoreboard.hpp>

#include <gtest/gtest.h>

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <random>
#include <stdexcept>
#include <string>

namespace fcgi::runtime {
namespace {

using namespace std::chrono_literals;
namespace layout = scoreboard_layout;

// Word offsets of the version 1 layout, as a hostile worker would poke them.
constexpr std::size_t magic_word = 0;
constexpr std::size_t version_word = 1;
constexpr std::size_t thread_count_word = 2;
constexpr std::size_t pid_word = 3;
constexpr std::size_t updated_word = 8;
constexpr std::size_t header_words = 32;
constexpr std::size_t slot_words = 32;
constexpr std::size_t sequence_in_slot = 0;
constexpr std::size_t heartbeat_in_slot = 1;
constexpr std::size_t what_length_in_slot = 3;

/// The worker's view: the page mapped writable, as a worker may write anything in it.
struct worker_view {
  explicit worker_view(const scoreboard& board) {
    void* map = ::mmap(nullptr, layout::bytes, PROT_READ | PROT_WRITE, MAP_SHARED, board.fd(), 0);
    if (map == MAP_FAILED) throw std::runtime_error("mmap");
    words = static_cast<std::uint64_t*>(map);
  }
  ~worker_view() { ::munmap(words, layout::bytes); }
  worker_view(const worker_view&) = delete;
  worker_view& operator=(const worker_view&) = delete;
  std::uint64_t& slot(std::size_t thread, std::size_t word) const {
    return words[header_words + thread * slot_words + word];
  }
  std::uint64_t* words = nullptr;
};

std::unique_ptr<scoreboard_writer> attached_writer(const scoreboard& board, unsigned threads) {
  return scoreboard_writer::attach(::dup(board.fd()), threads);
}

scoreboard_snapshot snapshot_of(const scoreboard& board) {
  auto result = board.read(::getpid());
  if (auto* error = std::get_if<std::string>(&result)) {
    ADD_FAILURE() << *error;
    return {};
  }
  return std::get<scoreboard_snapshot>(result);
}

std::string error_of(const scoreboard& board, pid_t pid = ::getpid()) {
  auto result = board.read(pid);
  const auto* error = std::get_if<std::string>(&result);
  return error ? *error : "(no error)";
}

TEST(scoreboard, a_fresh_page_is_not_attached) {
  const scoreboard board = scoreboard::create();
  const scoreboard_snapshot s = snapshot_of(board);
  EXPECT_FALSE(s.attached);
  EXPECT_TRUE(s.threads.empty());
}

TEST(scoreboard, a_writer_reports_counters_heartbeats_and_running_handlers) {
  const scoreboard board = scoreboard::create();
  const auto writer = attached_writer(board, 2);
  writer->publish({.requests_completed = 41,
                   .requests_in_flight = 3,
                   .connections = 7,
                   .connections_accepted = 90});
  writer->handler_started(1, "GET", "/slow?x=1");
  const scoreboard_snapshot s = snapshot_of(board);
  ASSERT_TRUE(s.attached);
  EXPECT_EQ(s.pid, ::getpid());
  EXPECT_EQ(s.requests_completed, 41U);
  EXPECT_EQ(s.requests_in_flight, 3U);
  EXPECT_EQ(s.connections, 7U);
  EXPECT_EQ(s.connections_accepted, 90U);
  ASSERT_EQ(s.threads.size(), 2U);
  EXPECT_FALSE(s.threads[0].handler_started);
  ASSERT_TRUE(s.threads[1].handler_started);
  EXPECT_LE(*s.threads[1].handler_started, monotonic_now());
  EXPECT_GT(*s.threads[1].handler_started, monotonic_now() - 10s);
  EXPECT_EQ(s.threads[1].what, "GET /slow?x=1");
  writer->handler_finished(1);
  const scoreboard_snapshot after = snapshot_of(board);
  EXPECT_FALSE(after.threads[1].handler_started);
  EXPECT_EQ(after.threads[1].what, "");
}

TEST(scoreboard, heartbeats_move_forward) {
  const scoreboard board = scoreboard::create();
  const auto writer = attached_writer(board, 1);
  const std::chrono::nanoseconds first = snapshot_of(board).threads.at(0).heartbeat;
  ::usleep(2000);
  writer->heartbeat(0);
  writer->heartbeat(5);  // beyond the threads it attached for: ignored
  EXPECT_GT(snapshot_of(board).threads.at(0).heartbeat, first);
}

TEST(scoreboard, long_and_unprintable_requests_are_cut_and_masked) {
  const scoreboard board = scoreboard::create();
  const auto writer = attached_writer(board, 1);
  writer->handler_started(0, "GET", "/" + std::string(500, 'a'));
  EXPECT_EQ(snapshot_of(board).threads.at(0).what.size(), layout::what_capacity);
  writer->handler_started(0, "GET", std::string("/\x1b[2J\n\xff", 7));
  EXPECT_EQ(snapshot_of(board).threads.at(0).what, "GET /?[2J??");
}

TEST(scoreboard, threads_beyond_the_page_are_not_reported) {
  const scoreboard board = scoreboard::create();
  const auto writer = attached_writer(board, 500);
  EXPECT_EQ(snapshot_of(board).threads.size(), layout::max_threads);
}

TEST(scoreboard, attach_from_environment) {
  ::unsetenv(scoreboard_variable);
  EXPECT_EQ(scoreboard_writer::attach_from_environment(1), nullptr);
  ::setenv(scoreboard_variable, "three", 1);
  EXPECT_THROW(scoreboard_writer::attach_from_environment(1), std::runtime_error);
  EXPECT_EQ(std::getenv(scoreboard_variable), nullptr);  // children never see it
  // A memfd the manager did not seal is refused: it could be shrunk under the reader.
  const int unsealed = ::memfd_create("plain", MFD_CLOEXEC);
  ASSERT_EQ(::ftruncate(unsealed, layout::bytes), 0);
  ::setenv(scoreboard_variable, std::to_string(unsealed).c_str(), 1);
  EXPECT_THROW(scoreboard_writer::attach_from_environment(1), std::runtime_error);
  const scoreboard board = scoreboard::create();
  ::setenv(scoreboard_variable, std::to_string(::dup(board.fd())).c_str(), 1);
  const auto writer = scoreboard_writer::attach_from_environment(4);
  ASSERT_NE(writer, nullptr);
  EXPECT_EQ(std::getenv(scoreboard_variable), nullptr);
  EXPECT_EQ(snapshot_of(board).threads.size(), 4U);
}

// --- E-60: a worker corrupts its page -----------------------------------------------------

TEST(scoreboard_hostile, a_worker_cannot_resize_its_page) {
  const scoreboard board = scoreboard::create();
  EXPECT_NE(::ftruncate(board.fd(), 0), 0);  // the reader's mapping can never fault
  EXPECT_EQ(errno, EPERM);
  EXPECT_NE(::ftruncate(board.fd(), layout::bytes * 2), 0);
}

TEST(scoreboard_hostile, each_corruption_is_reported_not_used) {
  struct corruption {
    const char* name;
    void (*apply)(const worker_view&);
    const char* expected;
  };
  const corruption cases[] = {
      {"magic", [](const worker_view& w) { w.words[magic_word] = 0xdeadbeef; }, "bad magic"},
      {"version", [](const worker_view& w) { w.words[version_word] = 2; }, "layout version 2"},
      {"pid", [](const worker_view& w) { w.words[pid_word] = 1; }, "written by pid 1"},
      {"thread count", [](const worker_view& w) { w.words[thread_count_word] = 100000; },
       "100000 threads"},
      {"counters' time",
       [](const worker_view& w) { w.words[updated_word] = ~std::uint64_t{0} / 2; }, "future"},
      {"heartbeat", [](const worker_view& w) { w.slot(0, heartbeat_in_slot) = 1ULL << 62U; },
       "future"},
      {"request length", [](const worker_view& w) { w.slot(1, what_length_in_slot) = 5000; },
       "request text of 5000 bytes"},
      {"stuck sequence", [](const worker_view& w) { w.slot(1, sequence_in_slot) = 7; },
       "still being written"},
  };
  for (const corruption& c : cases) {
    const scoreboard board = scoreboard::create();
    const auto writer = attached_writer(board, 2);
    const worker_view worker(board);
    c.apply(worker);
    EXPECT_NE(error_of(board).find(c.expected), std::string::npos)
        << c.name << ": " << error_of(board);
  }
}

TEST(scoreboard_hostile, random_pages_never_crash_the_reader) {
  const scoreboard board = scoreboard::create();
  const worker_view worker(board);
  std::mt19937_64 random(20261207);
  int attached = 0;
  for (int round = 0; round < 2000; ++round) {
    // A valid header half the time, so the slots get read too.
    for (std::size_t i = 0; i < layout::bytes / 8; ++i)
      worker.words[i] = random() % 4 == 0 ? 0 : random();
    if (round % 2 == 0) {
      worker.words[magic_word] = 0x4d504346;
      worker.words[version_word] = 1;
      worker.words[pid_word] = static_cast<std::uint64_t>(::getpid());
      worker.words[thread_count_word] = random() % 70;
      worker.words[updated_word] = 0;
    }
    auto result = board.read(::getpid());
    if (const auto* s = std::get_if<scoreboard_snapshot>(&result)) {
      attached += s->attached ? 1 : 0;
      for (const scoreboard_thread& t : s->threads) EXPECT_LE(t.what.size(), layout::what_capacity);
    }
  }
  RecordProperty("attached_pages", attached);
}

}  // namespace
}  // namespace fcgi::runtime
