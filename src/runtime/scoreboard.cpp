#include <fcgi/runtime/scoreboard.hpp>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <stdexcept>
#include <system_error>
#include <utility>

namespace fcgi::runtime {

namespace {

namespace layout = scoreboard_layout;

constexpr std::uint64_t magic = 0x4d504346;  // "FCPM" in a little-endian load
constexpr std::uint64_t version = 1;
constexpr std::size_t what_words = layout::what_capacity / sizeof(std::uint64_t);
constexpr int required_seals = F_SEAL_SHRINK | F_SEAL_GROW;
/// A writer publishes after the reader took `now`: times this far ahead are still honest.
constexpr std::chrono::nanoseconds future_slack = std::chrono::seconds(1);
constexpr int read_attempts = 4;

struct header_words {
  std::uint64_t magic;
  std::uint64_t version;
  std::uint64_t thread_count;
  std::uint64_t pid;
  std::uint64_t requests_completed;
  std::uint64_t requests_in_flight;
  std::uint64_t connections;
  std::uint64_t connections_accepted;
  std::uint64_t updated_ns;
  std::array<std::uint64_t, 23> reserved;
};

struct slot_words {
  std::uint64_t sequence;  ///< odd while the fields below are being written
  std::uint64_t heartbeat_ns;
  std::uint64_t handler_started_ns;  ///< 0: no handler running
  std::uint64_t what_length;
  std::array<std::uint64_t, what_words> what;
};

struct page {
  header_words header;
  std::array<slot_words, layout::max_threads> slots;
};
static_assert(sizeof(page) == layout::bytes);
static_assert(std::atomic_ref<std::uint64_t>::is_always_lock_free,
              "the page is shared between processes: only address-free atomics will do");

// The page is shared with another process, so every access is atomic; the manager's mapping
// is read-only, which a lock-free load never writes to.
std::uint64_t load(const std::uint64_t& word,
                   std::memory_order order = std::memory_order_relaxed) noexcept {
  return std::atomic_ref<std::uint64_t>(const_cast<std::uint64_t&>(word)).load(order);  // NOLINT
}

void store(std::uint64_t& word, std::uint64_t value,
           std::memory_order order = std::memory_order_relaxed) noexcept {
  std::atomic_ref<std::uint64_t>(word).store(value, order);
}

std::uint64_t now_ns() noexcept { return static_cast<std::uint64_t>(monotonic_now().count()); }

std::chrono::nanoseconds as_time(std::uint64_t ns) noexcept {
  return std::chrono::nanoseconds(static_cast<std::int64_t>(ns));
}

bool in_future(std::uint64_t ns, std::chrono::nanoseconds now) noexcept {
  return ns > static_cast<std::uint64_t>((now + future_slack).count());
}

std::string printable(const std::array<std::uint64_t, what_words>& words, std::size_t length) {
  std::array<char, layout::what_capacity> bytes{};
  for (std::size_t i = 0; i < what_words; ++i) {
    const std::uint64_t word = load(words[i]);
    std::memcpy(bytes.data() + i * sizeof word, &word, sizeof word);
  }
  std::string text(bytes.data(), length);
  for (char& c : text) {
    if (c < 0x20 || c > 0x7e) c = '?';
  }
  return text;
}

/// One slot under its sequence: a consistent copy, or why not.
std::variant<scoreboard_thread, std::string> read_slot(const slot_words& slot, std::size_t index,
                                                       std::chrono::nanoseconds now) {
  for (int attempt = 0; attempt < read_attempts; ++attempt) {
    const std::uint64_t before = load(slot.sequence, std::memory_order_acquire);
    if (before % 2 != 0) continue;
    const std::uint64_t heartbeat = load(slot.heartbeat_ns);
    const std::uint64_t started = load(slot.handler_started_ns);
    const std::uint64_t length = load(slot.what_length);
    std::string what = length <= layout::what_capacity ? printable(slot.what, length) : "";
    std::atomic_thread_fence(std::memory_order_acquire);
    if (load(slot.sequence) != before) continue;
    const std::string name = "thread " + std::to_string(index);
    if (length > layout::what_capacity)
      return name + ": request text of " + std::to_string(length) + " bytes";
    if (in_future(heartbeat, now) || in_future(started, now))
      return name + ": a time in the future";
    scoreboard_thread thread;
    thread.heartbeat = as_time(heartbeat);
    if (started != 0) thread.handler_started = as_time(started);
    thread.what = std::move(what);
    return thread;
  }
  return "thread " + std::to_string(index) + ": slot still being written after " +
         std::to_string(read_attempts) + " reads";
}

void unmap(std::byte* map) noexcept {
  if (map) ::munmap(map, layout::bytes);
}

}  // namespace

std::chrono::nanoseconds monotonic_now() noexcept {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec);
}

std::variant<scoreboard_snapshot, std::string> read_scoreboard(const std::byte* bytes,
                                                               pid_t expected_pid,
                                                               std::chrono::nanoseconds now) {
  const auto& p = *reinterpret_cast<const page*>(bytes);  // NOLINT: the shared page
  const header_words& h = p.header;
  scoreboard_snapshot snapshot;
  const std::uint64_t found_magic = load(h.magic, std::memory_order_acquire);
  if (found_magic == 0) return snapshot;  // never attached
  if (found_magic != magic) return std::string("not a scoreboard (bad magic)");
  if (const std::uint64_t v = load(h.version); v != version)
    return "layout version " + std::to_string(v) + ", expected " + std::to_string(version);
  if (const std::uint64_t pid = load(h.pid); pid != static_cast<std::uint64_t>(expected_pid))
    return "written by pid " + std::to_string(pid) + ", expected " + std::to_string(expected_pid);
  const std::uint64_t threads = load(h.thread_count);
  if (threads > layout::max_threads)
    return std::to_string(threads) + " threads, more than the page holds";
  const std::uint64_t updated = load(h.updated_ns);
  if (in_future(updated, now)) return std::string("counters published in the future");
  snapshot.attached = true;
  snapshot.pid = expected_pid;
  snapshot.requests_completed = load(h.requests_completed);
  snapshot.requests_in_flight = load(h.requests_in_flight);
  snapshot.connections = load(h.connections);
  snapshot.connections_accepted = load(h.connections_accepted);
  snapshot.updated = as_time(updated);
  for (std::size_t i = 0; i < threads; ++i) {
    auto slot = read_slot(p.slots[i], i, now);
    if (auto* error = std::get_if<std::string>(&slot)) return std::move(*error);
    snapshot.threads.push_back(std::move(std::get<scoreboard_thread>(slot)));
  }
  return snapshot;
}

// --- the manager's side ---------------------------------------------------------------------

scoreboard scoreboard::create() {
  const int fd = ::memfd_create("fcgi-pm-scoreboard", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0) throw std::system_error(errno, std::generic_category(), "memfd_create");
  if (::ftruncate(fd, static_cast<off_t>(layout::bytes)) != 0 ||
      ::fcntl(fd, F_ADD_SEALS, required_seals | F_SEAL_SEAL) != 0) {
    const int error = errno;
    ::close(fd);
    throw std::system_error(error, std::generic_category(), "sealing the scoreboard");
  }
  void* map = ::mmap(nullptr, layout::bytes, PROT_READ, MAP_SHARED, fd, 0);
  if (map == MAP_FAILED) {
    const int error = errno;
    ::close(fd);
    throw std::system_error(error, std::generic_category(), "mapping the scoreboard");
  }
  return {fd, static_cast<std::byte*>(map)};
}

scoreboard::scoreboard(scoreboard&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), map_(std::exchange(other.map_, nullptr)) {}

scoreboard& scoreboard::operator=(scoreboard&& other) noexcept {
  if (this != &other) {
    release();
    fd_ = std::exchange(other.fd_, -1);
    map_ = std::exchange(other.map_, nullptr);
  }
  return *this;
}

scoreboard::~scoreboard() { release(); }

void scoreboard::release() noexcept {
  unmap(map_);
  map_ = nullptr;
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

std::variant<scoreboard_snapshot, std::string> scoreboard::read(
    pid_t expected_pid, std::chrono::nanoseconds now) const {
  return read_scoreboard(map_, expected_pid, now);
}

// --- the worker's side ----------------------------------------------------------------------

std::unique_ptr<scoreboard_writer> scoreboard_writer::attach_from_environment(unsigned threads) {
  const char* value = std::getenv(scoreboard_variable);
  if (value == nullptr) return nullptr;
  const std::string text(value);
  ::unsetenv(scoreboard_variable);
  int fd = -1;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), fd);
  if (ec != std::errc{} || end != text.data() + text.size() || fd < 0)
    throw std::runtime_error(std::string(scoreboard_variable) + "=" + text +
                             " is not a file descriptor number");
  return attach(fd, threads);
}

std::unique_ptr<scoreboard_writer> scoreboard_writer::attach(int fd, unsigned threads) {
  struct stat st {};
  const bool sized = ::fstat(fd, &st) == 0 && st.st_size == static_cast<off_t>(layout::bytes);
  const int seals = ::fcntl(fd, F_GET_SEALS);
  if (!sized || seals < 0 || (seals & required_seals) != required_seals) {
    ::close(fd);
    throw std::runtime_error(std::string(scoreboard_variable) + ": fd " + std::to_string(fd) +
                             " is not a process manager's scoreboard (a sealed memfd of " +
                             std::to_string(layout::bytes) + " bytes)");
  }
  void* map = ::mmap(nullptr, layout::bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  const int error = errno;
  ::close(fd);
  if (map == MAP_FAILED)
    throw std::system_error(error, std::generic_category(), "mapping the scoreboard");
  const unsigned reported = std::min<unsigned>(threads, layout::max_threads);
  auto& p = *static_cast<page*>(map);
  store(p.header.version, version);
  store(p.header.thread_count, reported);
  store(p.header.pid, static_cast<std::uint64_t>(::getpid()));
  const std::uint64_t now = now_ns();
  for (unsigned i = 0; i < reported; ++i) store(p.slots[i].heartbeat_ns, now);
  store(p.header.updated_ns, now);
  store(p.header.magic, magic, std::memory_order_release);  // last: the page is ready
  return std::unique_ptr<scoreboard_writer>(
      new scoreboard_writer(static_cast<std::byte*>(map), reported));
}

scoreboard_writer::~scoreboard_writer() { unmap(map_); }

void scoreboard_writer::publish(const counters& now) noexcept {
  header_words& h = reinterpret_cast<page*>(map_)->header;  // NOLINT: the shared page
  store(h.requests_completed, now.requests_completed);
  store(h.requests_in_flight, now.requests_in_flight);
  store(h.connections, now.connections);
  store(h.connections_accepted, now.connections_accepted);
  store(h.updated_ns, now_ns(), std::memory_order_release);
}

void scoreboard_writer::heartbeat(unsigned thread) noexcept {
  if (thread >= threads_) return;
  store(reinterpret_cast<page*>(map_)->slots[thread].heartbeat_ns, now_ns());  // NOLINT
}

void scoreboard_writer::handler_started(unsigned thread, std::string_view method,
                                        std::string_view target) noexcept {
  if (thread >= threads_) return;
  slot_words& slot = reinterpret_cast<page*>(map_)->slots[thread];  // NOLINT: the shared page
  std::array<char, layout::what_capacity> bytes{};
  std::size_t size = 0;
  const auto append = [&bytes, &size](std::string_view part) {
    const std::size_t n = std::min(part.size(), bytes.size() - size);
    std::memcpy(bytes.data() + size, part.data(), n);
    size += n;
  };
  append(method);
  if (!method.empty() && !target.empty()) append(" ");
  append(target);
  const std::uint64_t sequence = load(slot.sequence);
  store(slot.sequence, sequence + 1);
  std::atomic_thread_fence(std::memory_order_release);
  for (std::size_t i = 0; i < (size + 7) / 8; ++i) {
    std::uint64_t word = 0;
    std::memcpy(&word, bytes.data() + i * sizeof word, sizeof word);
    store(slot.what[i], word);
  }
  store(slot.what_length, size);
  store(slot.handler_started_ns, now_ns());
  store(slot.sequence, sequence + 2, std::memory_order_release);
}

void scoreboard_writer::handler_finished(unsigned thread) noexcept {
  if (thread >= threads_) return;
  slot_words& slot = reinterpret_cast<page*>(map_)->slots[thread];  // NOLINT: the shared page
  const std::uint64_t sequence = load(slot.sequence);
  store(slot.sequence, sequence + 1);
  std::atomic_thread_fence(std::memory_order_release);
  store(slot.handler_started_ns, 0);
  store(slot.what_length, 0);
  store(slot.sequence, sequence + 2, std::memory_order_release);
}

}  // namespace fcgi::runtime
