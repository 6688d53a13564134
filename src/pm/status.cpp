#include <fcgi/pm/status.hpp>

#include <algorithm>
#include <map>
#include <mutex>
#include <thread>

#include <nlohmann/json.hpp>

#include <fcgi/server/server.hpp>

namespace fcgi::pm {
namespace {

double seconds_between(clock::time_point from, clock::time_point to) {
  return std::chrono::duration<double>(to - from).count();
}

const std::vector<std::string>& worker_states() {
  static const std::vector<std::string> states{"starting", "idle", "busy", "unknown", "stopping"};
  return states;
}

const std::vector<std::string>& restart_reasons() {
  static const std::vector<std::string> reasons{"crash", "max_requests", "max_rss",
                                                "request_timeout", "untrusted"};
  return reasons;
}

/// Every state, in worker_states() order, with its count.
std::vector<std::pair<std::string, unsigned>> count_states(const pool_status& pool) {
  std::vector<std::pair<std::string, unsigned>> counts;
  for (const std::string& state : worker_states()) {
    counts.emplace_back(state, static_cast<unsigned>(std::count_if(
                                   pool.workers.begin(), pool.workers.end(),
                                   [&state](const worker_status& w) { return w.state == state; })));
  }
  return counts;
}

std::uint64_t restarts_for(const pool_status& pool, const std::string& reason) {
  const auto found = pool.restarts_by_reason.find(reason);
  return found == pool.restarts_by_reason.end() ? 0 : found->second;
}

/// A Prometheus label value: backslash, quote and newline escaped.
std::string label(const std::string& value) {
  std::string out;
  for (const char c : value) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

}  // namespace

std::string to_json(const manager_status& status, clock::time_point now) {
  nlohmann::ordered_json pools = nlohmann::ordered_json::array();
  for (const pool_status& pool : status.pools) {
    nlohmann::ordered_json processes = nlohmann::ordered_json::array();
    for (const worker_status& w : pool.workers) {
      processes.push_back({{"pid", w.pid},
                           {"state", w.state},
                           {"requests", w.requests},
                           {"uptime_seconds", seconds_between(w.started, now)},
                           {"generation", w.generation}});
    }
    nlohmann::ordered_json states = nlohmann::ordered_json::object();
    unsigned running = 0;
    for (const auto& [state, count] : count_states(pool)) {
      states[state] = count;
      if (state != "starting" && state != "stopping") running += count;
    }
    states["running"] = running;
    nlohmann::ordered_json reasons = nlohmann::ordered_json::object();
    for (const std::string& reason : restart_reasons())
      reasons[reason] = restarts_for(pool, reason);
    pools.push_back({{"name", pool.name},
                     {"listen", pool.listen},
                     {"mode", pool.mode},
                     {"workers_configured", pool.configured},
                     {"workers", states},
                     {"requests", pool.requests},
                     {"slow_requests", pool.slow_requests},
                     {"restarts", pool.restarts},
                     {"restarts_by_reason", reasons},
                     {"failed_starts_in_a_row", pool.failed_starts_in_a_row},
                     {"generation", pool.generation},
                     {"processes", processes}});
  }
  const nlohmann::ordered_json root = {{"pid", status.pid},
                                       {"uptime_seconds", seconds_between(status.started, now)},
                                       {"reloads", status.reloads},
                                       {"stopping", status.stopping},
                                       {"pools", pools}};
  return root.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
}

std::string to_prometheus(const manager_status& status, clock::time_point now) {
  std::string out;
  auto line = [&out](const std::string& text) { out += text + "\n"; };
  line("# HELP fcgi_pm_uptime_seconds Seconds since fcgi-pm started.");
  line("# TYPE fcgi_pm_uptime_seconds gauge");
  line("fcgi_pm_uptime_seconds " + std::to_string(seconds_between(status.started, now)));
  line("# HELP fcgi_pm_reloads_total Reloads (SIGHUP) accepted.");
  line("# TYPE fcgi_pm_reloads_total counter");
  line("fcgi_pm_reloads_total " + std::to_string(status.reloads));
  line("# HELP fcgi_pm_workers Worker processes by state.");
  line("# TYPE fcgi_pm_workers gauge");
  for (const pool_status& pool : status.pools) {
    for (const auto& [state, count] : count_states(pool)) {
      line("fcgi_pm_workers{pool=\"" + label(pool.name) + "\",state=\"" + state + "\"} " +
           std::to_string(count));
    }
  }
  line("# HELP fcgi_pm_workers_configured Workers the pool is configured to run.");
  line("# TYPE fcgi_pm_workers_configured gauge");
  for (const pool_status& pool : status.pools) {
    line("fcgi_pm_workers_configured{pool=\"" + label(pool.name) + "\"} " +
         std::to_string(pool.configured));
  }
  line("# HELP fcgi_pm_requests_total Requests completed by the pool's workers (fcgikit apps).");
  line("# TYPE fcgi_pm_requests_total counter");
  for (const pool_status& pool : status.pools) {
    line("fcgi_pm_requests_total{pool=\"" + label(pool.name) + "\"} " +
         std::to_string(pool.requests));
  }
  line("# HELP fcgi_pm_worker_requests_total Requests completed by each running worker.");
  line("# TYPE fcgi_pm_worker_requests_total counter");
  for (const pool_status& pool : status.pools) {
    for (const worker_status& w : pool.workers) {
      line("fcgi_pm_worker_requests_total{pool=\"" + label(pool.name) + "\",pid=\"" +
           std::to_string(w.pid) + "\"} " + std::to_string(w.requests));
    }
  }
  line("# HELP fcgi_pm_slow_requests_total Handler runs past slowlog_timeout.");
  line("# TYPE fcgi_pm_slow_requests_total counter");
  for (const pool_status& pool : status.pools) {
    line("fcgi_pm_slow_requests_total{pool=\"" + label(pool.name) + "\"} " +
         std::to_string(pool.slow_requests));
  }
  line("# HELP fcgi_pm_restarts_total Workers replaced, by reason (crash: exited unasked).");
  line("# TYPE fcgi_pm_restarts_total counter");
  for (const pool_status& pool : status.pools) {
    for (const std::string& reason : restart_reasons()) {
      line("fcgi_pm_restarts_total{pool=\"" + label(pool.name) + "\",reason=\"" + reason + "\"} " +
           std::to_string(restarts_for(pool, reason)));
    }
  }
  line("# HELP fcgi_pm_failed_starts_in_a_row Workers that died at start in a row (backoff).");
  line("# TYPE fcgi_pm_failed_starts_in_a_row gauge");
  for (const pool_status& pool : status.pools) {
    line("fcgi_pm_failed_starts_in_a_row{pool=\"" + label(pool.name) + "\"} " +
         std::to_string(pool.failed_starts_in_a_row));
  }
  return out;
}

struct status_server::impl {
  std::mutex mutex;
  manager_status latest;
  std::unique_ptr<fcgi::server> server;
  std::thread thread;

  manager_status snapshot() {
    const std::lock_guard lock(mutex);
    return latest;
  }
};

status_server::status_server(int listen_fd, const logger& log) : impl_(std::make_unique<impl>()) {
  fcgi::server_config config;
  config.listen_fds = {listen_fd};
  config.threads = 1;
  config.handle_signals = false;
  config.stop_grace = std::chrono::seconds(1);
  config.log = [&log](std::string_view line) {
    log.write({log_level::info, "status_server", {}, 0, line});
  };
  impl_->server = std::make_unique<fcgi::server>(std::move(config));
  impl* state = impl_.get();
  impl_->server->responder([state](fcgi::request& req, fcgi::response& res) {
    const manager_status snapshot = state->snapshot();
    const auto now = clock::now();
    if (req.query("format") == std::optional<std::string_view>("prometheus")) {
      res.header("Content-Type", "text/plain; version=0.0.4");
      res.write(to_prometheus(snapshot, now));
      return;
    }
    res.header("Content-Type", "application/json");
    res.write(to_json(snapshot, now));
  });
  impl_->thread = std::thread([state] { state->server->run(); });
}

status_server::~status_server() {
  impl_->server->stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

void status_server::publish(manager_status snapshot) {
  const std::lock_guard lock(impl_->mutex);
  impl_->latest = std::move(snapshot);
}

}  // namespace fcgi::pm
