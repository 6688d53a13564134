// One runner per thread: its own io_context and async_client, `concurrency` workers that
// each run one call at a time, and a watcher that notices a stop request and publishes
// progress. Threads share nothing on the hot path; they meet once, at the start line.
#include "load.hpp"

#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <barrier>
#include <cmath>
#include <csignal>
#include <ctime>
#include <exception>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fcgi/client/async.hpp>

#include "status.hpp"

namespace fcgi::bench {

namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

/// How often each thread looks for a stop request and publishes its progress.
constexpr auto watch_interval = 100ms;
/// The open loop's schedule starts this long after the start line, so that its first
/// requests are not late by the time it takes to start the workers.
constexpr auto open_loop_lead = 1ms;
constexpr clock::time_point never = clock::time_point::max();

/// An even split of `total` over `parts`, the remainder to the first ones.
std::uint64_t share_of(std::uint64_t total, unsigned parts, unsigned index) noexcept {
  return total / parts + (index < total % parts ? 1 : 0);
}

bool is_connect_failure(const std::error_code& e) noexcept {
  return e == client::errc::refused || e == client::errc::invalid_endpoint ||
         e == client::errc::connect_timeout;
}

std::uint64_t nanoseconds_of(clock::duration d) noexcept {
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(d).count();
  return ns > 0 ? static_cast<std::uint64_t>(ns) : 0;
}

/// A completion for co_spawn that lets an exception out of io_context::run().
void rethrow(const std::exception_ptr& e) {
  if (e) std::rethrow_exception(e);
}

/// What every thread sees.
struct run_shared {
  struct start_signal {
    run_shared* shared;
    void operator()() noexcept { shared->t0 = clock::now(); }
  };
  explicit run_shared(unsigned threads) : start_line(threads, start_signal{this}) {}

  void report_unreachable(const std::string& detail) {
    const std::scoped_lock lock(mutex);
    if (!unreachable.exchange(true)) unreachable_detail = detail;
  }

  std::barrier<start_signal> start_line;
  clock::time_point t0;  ///< written when the last thread reaches the start line
  std::atomic<bool> stop{false};
  std::atomic<bool> unreachable{false};
  std::atomic<unsigned> finished{0};
  std::mutex mutex;  ///< guards unreachable_detail
  std::string unreachable_detail;
};

client::pool_settings pool_settings_of(const load_plan& plan, std::size_t concurrency,
                                       std::size_t connections) {
  client::pool_settings settings;
  settings.max_connections = std::max<std::size_t>(connections, 1);
  settings.mpx = plan.mpx;
  // Room for every request of this thread on one connection; a probed FCGI_MAX_REQS lowers it.
  settings.max_requests_per_connection =
      static_cast<std::uint32_t>(std::clamp<std::size_t>(concurrency, 1, 65535));
  settings.keep_conn = plan.keep_conn;
  settings.timeouts.total = plan.timeout;
  return settings;
}

class runner {
 public:
  runner(const load_plan& plan, unsigned index, run_shared& shared, bool publish)
      : plan_(plan),
        shared_(shared),
        publish_(publish),
        by_count_(plan.requests > 0),
        quota_(share_of(plan.requests, plan.threads, index)),
        client_(io_.get_executor(), plan.endpoint,
                pool_settings_of(plan, share_of(plan.concurrency, plan.threads, index),
                                 share_of(plan.connections, plan.threads, index))) {
    const std::uint64_t concurrency = share_of(plan.concurrency, plan.threads, index);
    if (plan.rate > 0) {
      const double rate =
          plan.rate * static_cast<double>(concurrency) / static_cast<double>(plan.concurrency);
      interval_ns_ = 1e9 / rate;
    }
    for (std::uint64_t i = 0; i < concurrency; ++i) {
      auto w = std::make_unique<worker>(plan.request, io_);
      w->request.on_stdout = [status = &w->status](std::string_view bytes) { status->feed(bytes); };
      w->request.on_stderr = [](std::string_view) {};  // counted in response::err_bytes
      workers_.push_back(std::move(w));
    }
  }

  /// The thread's body.
  void run() noexcept {
    try {
      asio::co_spawn(io_, start(), rethrow);
      io_.run();
    } catch (const std::exception& e) {
      failure_ = e.what();
    }
    shared_.finished.fetch_add(1);
  }

  [[nodiscard]] const tally& counts() const noexcept { return tally_; }
  [[nodiscard]] const client::pool_stats& pool_stats() const noexcept { return stats_; }
  [[nodiscard]] const std::string& failure() const noexcept { return failure_; }

  /// The measured window (see run_result::elapsed).
  [[nodiscard]] std::chrono::nanoseconds elapsed() const noexcept {
    if (measure_start_ == clock::time_point{}) return {};
    clock::time_point window_end = last_response_;
    if (!by_count_) window_end = std::max(window_end, std::min(planned_end_, stopped_at_));
    return std::chrono::nanoseconds(nanoseconds_of(window_end - measure_start_));
  }

  [[nodiscard]] progress_snapshot snapshot() {
    const std::scoped_lock lock(published_mutex_);
    return published_;
  }

 private:
  struct worker {
    worker(client::request r, asio::io_context& io) : request(std::move(r)), timer(io) {}
    client::request request;  ///< the plan's, with sinks that feed `status`
    cgi_status_scanner status;
    asio::steady_timer timer;  ///< the open loop's wait for an intended start
  };

  asio::awaitable<void> start() {
    // The start-up call, never counted: it opens the first connection and lets the probe
    // decide multiplexing before the clock starts.
    try {
      const client::response first = co_await client_.call(workers_.front()->request);
      if (is_connect_failure(first.error)) shared_.report_unreachable(first.detail);
    } catch (...) {
      shared_.start_line.arrive_and_drop();  // never leave the other threads waiting
      throw;
    }
    shared_.start_line.arrive_and_wait();  // blocks this thread: nothing else runs here yet
    if (shared_.unreachable.load()) {
      finish();
      co_return;
    }
    plan_schedule(shared_.t0);
    live_workers_ = workers_.size();
    for (const std::unique_ptr<worker>& w : workers_)
      asio::co_spawn(io_, plan_.rate > 0 ? open_loop(*w) : closed_loop(*w), rethrow);
    asio::co_spawn(io_, watch(), rethrow);
  }

  void plan_schedule(clock::time_point t0) {
    t0_ = t0;
    origin_ = plan_.rate > 0 ? t0 + open_loop_lead : t0;
    measure_start_ = origin_ + plan_.warmup;
    end_ = by_count_ ? never : measure_start_ + plan_.duration;
    planned_end_ = end_;
  }

  /// A fixed number of requests in flight: each worker sends its next request as soon as
  /// the previous one ends.
  asio::awaitable<void> closed_loop(worker& w) {
    for (;;) {
      const clock::time_point began = clock::now();
      if (began >= end_) break;
      const bool measured = began >= measure_start_;
      if (measured && by_count_ && started_ >= quota_) break;
      if (measured) ++started_;
      w.status.reset();
      const client::response r = co_await client_.call(w.request);
      ++ended_;
      if (measured) count(w, r, began);
    }
    worker_done();
  }

  /// Requests at fixed intended start times, origin + k / rate. A worker takes the next
  /// start time when it is free: before that time it waits for it; after it, the request is
  /// late (every worker was busy) and goes at once. Either way its latency is measured from
  /// the intended start, so a stalled application cannot hide the requests it delayed
  /// (coordinated omission).
  asio::awaitable<void> open_loop(worker& w) {
    for (;;) {
      const clock::time_point intended = ticket_time(next_ticket_);
      if (intended >= end_) break;
      const bool measured = intended >= measure_start_;
      if (measured && by_count_ && claimed_ >= quota_) break;
      const clock::time_point now = clock::now();
      if (now >= end_) break;  // behind schedule at the end: the rest are missed
      ++next_ticket_;
      if (measured) ++claimed_;
      if (intended > now) {
        w.timer.expires_at(intended);
        boost::system::error_code ec;
        co_await w.timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        if (ec) break;  // cancelled: the run was stopped
      } else if (measured) {
        ++tally_.late;
      }
      if (measured) ++started_;
      w.status.reset();
      const client::response r = co_await client_.call(w.request);
      ++ended_;
      if (measured) count(w, r, intended);
    }
    worker_done();
  }

  [[nodiscard]] clock::time_point ticket_time(std::uint64_t ticket) const noexcept {
    return origin_ +
           std::chrono::nanoseconds(std::llround(static_cast<double>(ticket) * interval_ns_));
  }

  /// The first ticket whose intended start is at or after `t`.
  [[nodiscard]] std::uint64_t first_ticket_from(clock::time_point t) const noexcept {
    if (t <= origin_) return 0;
    auto ticket = static_cast<std::uint64_t>(
        std::ceil(static_cast<double>(nanoseconds_of(t - origin_)) / interval_ns_));
    while (ticket > 0 && ticket_time(ticket - 1) >= t) --ticket;
    while (ticket_time(ticket) < t) ++ticket;
    return ticket;
  }

  void count(worker& w, const client::response& r, clock::time_point began) noexcept {
    const clock::time_point now = clock::now();
    last_response_ = now;
    tally_.stdout_bytes += r.out_bytes;
    tally_.stderr_bytes += r.err_bytes;
    if (r.error) {
      ++tally_.errors[error_slot(r.error)];
      return;
    }
    const unsigned status = w.status.status();
    if (status == 0) {
      ++tally_.invalid_heads;
      return;
    }
    ++tally_.status_classes[status / 100];
    tally_.latency.record(nanoseconds_of(now - began));
  }

  void worker_done() {
    if (--live_workers_ == 0) finish();
  }

  asio::awaitable<void> watch() {
    while (live_workers_ > 0) {
      watch_timer_.expires_after(watch_interval);
      boost::system::error_code ec;
      co_await watch_timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      if (shared_.stop.load(std::memory_order_relaxed) && stopped_at_ == never) stop_now();
      if (publish_) publish();
    }
  }

  void stop_now() {
    stopped_at_ = clock::now();
    end_ = std::min(end_, stopped_at_);
    for (const std::unique_ptr<worker>& w : workers_) w->timer.cancel();
  }

  void finish() {
    if (plan_.rate > 0 && measure_start_ != clock::time_point{}) {
      const clock::time_point close = std::min(planned_end_, stopped_at_);
      tally_.scheduled = by_count_ || close <= measure_start_
                             ? started_
                             : first_ticket_from(close) - first_ticket_from(measure_start_);
      tally_.missed = tally_.scheduled > started_ ? tally_.scheduled - started_ : 0;
    }
    stats_ = client_.stats();
    client_.close();
    watch_timer_.cancel();
    publish();
  }

  void publish() {
    const clock::time_point now = clock::now();
    const std::scoped_lock lock(published_mutex_);
    published_.elapsed = t0_ == clock::time_point{}
                             ? std::chrono::nanoseconds{}
                             : std::chrono::nanoseconds(nanoseconds_of(now - t0_));
    published_.warming_up = now < measure_start_;
    published_.completed = ended_;
    published_.failed = tally_.failed();
    published_.latency = tally_.latency;
  }

  const load_plan& plan_;
  run_shared& shared_;
  const bool publish_;
  const bool by_count_;
  const std::uint64_t quota_;
  double interval_ns_ = 0;
  // Only this runner's thread ever touches io_ once it runs (the main thread reads atomics and
  // published snapshots), so Asio needs no locks.
  asio::io_context io_{BOOST_ASIO_CONCURRENCY_HINT_UNSAFE};
  client::async_client client_;
  std::vector<std::unique_ptr<worker>> workers_;
  asio::steady_timer watch_timer_{io_};
  std::size_t live_workers_ = 0;

  clock::time_point t0_;
  clock::time_point origin_;
  clock::time_point measure_start_;
  clock::time_point end_ = never;  ///< no request starts at or after it
  clock::time_point planned_end_ = never;
  clock::time_point stopped_at_ = never;
  clock::time_point last_response_;
  std::uint64_t next_ticket_ = 0;
  std::uint64_t claimed_ = 0;  ///< measured open-loop tickets taken (the quota counts them)
  std::uint64_t started_ = 0;  ///< measured requests sent
  std::uint64_t ended_ = 0;    ///< requests ended, warm-up included (for the progress line)

  tally tally_;
  client::pool_stats stats_;
  std::string failure_;
  std::mutex published_mutex_;
  progress_snapshot published_;
};

/// Waits for the runners, turning SIGINT/SIGTERM into a stop request and calling `progress`
/// once a second. The signals are blocked in every thread and taken here with sigtimedwait.
bool wait_for_runners(run_shared& shared, const std::vector<std::unique_ptr<runner>>& runners,
                      const sigset_t& stop_signals, const progress_sink& progress) {
  bool interrupted = false;
  clock::time_point next_progress = clock::now() + 1s;
  while (shared.finished.load() < runners.size()) {
    timespec wait{0, 50'000'000};
    const int signal = ::sigtimedwait(&stop_signals, nullptr, &wait);
    if (signal == SIGINT || signal == SIGTERM) {
      if (interrupted) std::_Exit(130);
      interrupted = true;
      shared.stop.store(true);
    }
    if (progress && clock::now() >= next_progress) {
      next_progress += 1s;
      progress_snapshot merged;
      for (const std::unique_ptr<runner>& r : runners) {
        const progress_snapshot one = r->snapshot();
        merged.elapsed = std::max(merged.elapsed, one.elapsed);
        merged.warming_up = merged.warming_up || one.warming_up;
        merged.completed += one.completed;
        merged.failed += one.failed;
        merged.latency.merge(one.latency);
      }
      progress(merged);
    }
  }
  // A signal that came after the last thread finished is still an interruption.
  timespec none{0, 0};
  while (::sigtimedwait(&stop_signals, nullptr, &none) > 0) interrupted = true;
  return interrupted;
}

}  // namespace

std::size_t error_slot(const std::error_code& code) noexcept {
  if (code.category() != client::client_category()) return 0;
  const auto value = static_cast<std::size_t>(code.value());
  return value < tally::error_slots ? value : 0;
}

void tally::merge(const tally& other) noexcept {
  latency.merge(other.latency);
  for (std::size_t i = 0; i < status_classes.size(); ++i)
    status_classes[i] += other.status_classes[i];
  for (std::size_t i = 0; i < errors.size(); ++i) errors[i] += other.errors[i];
  invalid_heads += other.invalid_heads;
  stdout_bytes += other.stdout_bytes;
  stderr_bytes += other.stderr_bytes;
  scheduled += other.scheduled;
  late += other.late;
  missed += other.missed;
}

std::uint64_t tally::responses() const noexcept {
  std::uint64_t sum = 0;
  for (const std::uint64_t n : status_classes) sum += n;
  return sum;
}

std::uint64_t tally::failed() const noexcept {
  std::uint64_t sum = invalid_heads;
  for (const std::uint64_t n : errors) sum += n;
  return sum;
}

std::uint64_t tally::connect_failures() const noexcept {
  return errors[error_slot(client::errc::refused)] +
         errors[error_slot(client::errc::invalid_endpoint)] +
         errors[error_slot(client::errc::connect_timeout)];
}

run_result run_load(const load_plan& plan, const progress_sink& progress) {
  run_shared shared(plan.threads);
  std::vector<std::unique_ptr<runner>> runners;
  for (unsigned i = 0; i < plan.threads; ++i)
    runners.push_back(std::make_unique<runner>(plan, i, shared, static_cast<bool>(progress)));

  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  sigset_t previous;
  ::pthread_sigmask(SIG_BLOCK, &stop_signals, &previous);  // inherited by the threads
  run_result result;
  {
    std::vector<std::jthread> threads;
    threads.reserve(runners.size());
    for (const std::unique_ptr<runner>& r : runners) threads.emplace_back([&r] { r->run(); });
    result.interrupted = wait_for_runners(shared, runners, stop_signals, progress);
  }
  ::pthread_sigmask(SIG_SETMASK, &previous, nullptr);

  for (std::size_t i = 0; i < runners.size(); ++i) {
    const runner& r = *runners[i];
    if (!r.failure().empty())
      throw std::runtime_error("thread " + std::to_string(i) + ": " + r.failure());
    result.totals.merge(r.counts());
    result.elapsed = std::max(result.elapsed, r.elapsed());
    const client::pool_stats& s = r.pool_stats();
    if (i == 0)
      result.pool = s;
    else {
      result.pool.connections_opened += s.connections_opened;
      result.pool.connections_reused += s.connections_reused;
      result.pool.calls += s.calls;
      result.pool.failed_calls += s.failed_calls;
    }
  }
  if (shared.unreachable.load()) result.unreachable = shared.unreachable_detail;
  return result;
}

}  // namespace fcgi::bench
