#include "pool.hpp"

#include <boost/asio/post.hpp>

#include <algorithm>
#include <exception>

#include "worker.hpp"

namespace fcgi::detail {
namespace {

/// Output is handed over in pieces of at most this size, so a single large write waits for
/// room piece by piece instead of being copied whole.
constexpr std::size_t piece_size = 64 * 1024;

}  // namespace

pool_job::pool_job(connection& owner, protocol::request_key key, request& input,
                   const server::handler& handler, std::string name)
    : owner_(owner.weak_from_this()),
      io_(owner.context()),
      shared_(owner.shared()),
      key_(key),
      handler_(handler),
      name_(std::move(name)),
      bound_(owner.config().max_output_buffer),
      params_(input.params().raw().begin(), input.params().raw().end()),
      request_(input.role(), protocol::param_list(params_), input.keep_conn()) {
  request_.body_buffer() = std::move(input.body_buffer());
  request_.data_buffer() = std::move(input.data_buffer());
}

void pool_job::run() {
  if (!cancelled_.load()) {  // else aborted before it started: the I/O thread answered it
    response res(*this);
    res.end(invoke_handler(handler_, request_, res, shared_));
  }
  finished_ = true;
}

bool pool_job::write(bool to_stderr, std::string_view bytes) {
  while (!bytes.empty()) {
    bool post = false;
    {
      std::unique_lock lock(mutex_);
      // Backpressure: wait while this request's output not yet taken by the I/O thread is
      // over the bound (the connection's queue takes it only while under the bound too).
      drained_.wait(lock,
                    [this] { return cancelled_.load() || pending_ == 0 || pending_ < bound_; });
      if (cancelled_.load()) return false;
      const std::size_t count = std::min(bytes.size(), piece_size);
      if (chunks_.empty() || chunks_.back().to_stderr != to_stderr ||
          chunks_.back().bytes.size() + count > piece_size) {
        chunks_.push_back({to_stderr, {}});
      }
      chunks_.back().bytes.append(bytes.substr(0, count));
      pending_ += count;
      bytes.remove_prefix(count);
      post = !std::exchange(pump_posted_, true);
    }
    if (post) post_pump();
  }
  return !cancelled_.load();
}

void pool_job::end(std::uint32_t app_status) {
  if (cancelled_.load()) return;  // the I/O thread has answered for this request already
  bool post = false;
  {
    std::lock_guard lock(mutex_);
    end_status_ = app_status;
    post = !std::exchange(pump_posted_, true);
  }
  if (post) post_pump();
}

void pool_job::post_pump() {
  boost::asio::post(io_, [job = shared_from_this()] {
    if (const std::shared_ptr<connection> c = job->owner_.lock()) c->on_pool_output(*job);
  });
}

void pool_job::cancel() {
  {
    std::lock_guard lock(mutex_);  // so a writer cannot miss the wake-up between its checks
    cancelled_ = true;
  }
  drained_.notify_all();
}

void pool_job::discard() {
  {
    std::lock_guard lock(mutex_);
    pump_posted_ = false;
    chunks_.clear();
    pending_ = 0;
    end_status_.reset();
    backlog = false;
  }
  drained_.notify_all();
}

handler_pool::handler_pool(unsigned threads, shared_state& shared) : shared_(shared) {
  threads_.reserve(threads);
  try {
    for (unsigned i = 0; i < threads; ++i) threads_.emplace_back([this] { run_thread(); });
  } catch (...) {
    stop_and_join();
    throw;
  }
}

handler_pool::~handler_pool() { stop_and_join(); }

void handler_pool::submit(std::shared_ptr<pool_job> job) {
  {
    std::lock_guard lock(mutex_);
    queue_.push_back(std::move(job));
  }
  ready_.notify_one();
}

void handler_pool::stop_and_join() {
  std::size_t left = 0;
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    left = busy_ + queue_.size();
  }
  ready_.notify_all();
  if (left != 0 && !threads_.empty()) {
    shared_.log("waiting for " + std::to_string(left) +
                " handler(s) on the handler pool to return");
  }
  for (std::thread& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
}

void handler_pool::run_thread() {
  for (;;) {
    std::shared_ptr<pool_job> job;
    {
      std::unique_lock lock(mutex_);
      ready_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and every queued job has run
      job = std::move(queue_.front());
      queue_.pop_front();
      ++busy_;
    }
    try {
      job->run();
    } catch (const std::exception& e) {
      // Only the runtime's own hand-over can throw here (out of memory): the request may stay
      // unanswered until request_timeout or the web server gives up; the thread carries on.
      shared_.log(std::string("handler pool: ") + e.what() + " (" + job->name() + ")");
    }
    job.reset();
    std::lock_guard lock(mutex_);
    --busy_;
  }
}

}  // namespace fcgi::detail
