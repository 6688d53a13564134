// fcgi-pm's status: what the manager knows about its pools (workers by state, restarts,
// failed starts in a row, uptime), rendered as JSON or as Prometheus text, and served on a
// `--status-listen` endpoint by an embedded fcgi::server on a thread of its own.
//
// The manager's loop publishes a snapshot after each turn; the status thread only reads the
// latest one (under a mutex). The thread never forks and never touches the manager's state.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <fcgi/pm/backoff.hpp>
#include <fcgi/pm/log.hpp>

namespace fcgi::pm {

struct worker_status {
  pid_t pid = 0;
  /// "starting" (up less than min_uptime); then, from its scoreboard, "idle" or "busy", or
  /// "unknown" (not an fcgikit application); "stopping" (SIGTERM sent).
  std::string state;
  clock::time_point started;
  unsigned generation = 0;
  std::uint64_t requests = 0;  ///< requests it completed (fcgikit applications)
};

struct pool_status {
  std::string name;
  std::string listen;
  std::string mode = "static";  ///< "static", "dynamic", "ondemand"
  unsigned configured = 0;      ///< workers wanted now: `workers` for a static pool
  std::uint64_t restarts = 0;   ///< the sum of restarts_by_reason
  /// "crash" (exited unasked), "max_requests", "max_rss", "request_timeout", "untrusted".
  std::map<std::string, std::uint64_t> restarts_by_reason;
  std::uint64_t requests = 0;       ///< completed by its workers, past and present
  std::uint64_t slow_requests = 0;  ///< handler runs past slowlog_timeout
  unsigned failed_starts_in_a_row = 0;
  unsigned generation = 0;  ///< reloads this pool went through
  std::vector<worker_status> workers;
};

struct manager_status {
  pid_t pid = 0;
  clock::time_point started;
  std::uint64_t reloads = 0;
  bool stopping = false;
  std::vector<pool_status> pools;
};

/// {"pid":..,"uptime_seconds":..,"reloads":..,"stopping":..,"pools":[{"name":..,"listen":..,
/// "mode":..,"workers_configured":..,"workers":{"starting":..,"idle":..,"busy":..,"unknown":..,
/// "stopping":..,"running":..},"requests":..,"slow_requests":..,"restarts":..,
/// "restarts_by_reason":{"crash":..,"max_requests":..,"max_rss":..,"request_timeout":..,
/// "untrusted":..},"failed_starts_in_a_row":..,"generation":..,"processes":[{"pid":..,
/// "state":..,"requests":..,"uptime_seconds":..,"generation":..}]}]}
/// ("running" is idle + busy + unknown.)
std::string to_json(const manager_status& status, clock::time_point now);
/// Prometheus text format 0.0.4: fcgi_pm_uptime_seconds, fcgi_pm_reloads_total,
/// fcgi_pm_workers{pool,state} (starting, idle, busy, unknown, stopping),
/// fcgi_pm_workers_configured{pool}, fcgi_pm_requests_total{pool},
/// fcgi_pm_slow_requests_total{pool}, fcgi_pm_restarts_total{pool,reason},
/// fcgi_pm_worker_requests_total{pool,pid}, fcgi_pm_failed_starts_in_a_row{pool}.
std::string to_prometheus(const manager_status& status, clock::time_point now);

/// Serves GET (any path) with the latest snapshot: JSON, or Prometheus text with
/// `?format=prometheus`. Owns `listen_fd`.
class status_server {
 public:
  /// Starts the thread. Call it after the manager has blocked its signals, so the thread
  /// inherits the mask and every signal reaches the manager's signalfd.
  status_server(int listen_fd, const logger& log);
  ~status_server();  ///< stops the server and joins the thread
  status_server(const status_server&) = delete;
  status_server& operator=(const status_server&) = delete;
  status_server(status_server&&) = delete;
  status_server& operator=(status_server&&) = delete;

  void publish(manager_status snapshot);

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace fcgi::pm
