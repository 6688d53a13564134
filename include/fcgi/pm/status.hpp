// fcgi-pm's status: what the manager knows about its pools (workers by state, restarts,
// failed starts in a row, uptime), rendered as JSON or as Prometheus text, and served on a
// `--status-listen` endpoint by an embedded fcgi::server on a thread of its own.
//
// The manager's loop publishes a snapshot after each turn; the status thread only reads the
// latest one (under a mutex). The thread never forks and never touches the manager's state.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <fcgi/pm/backoff.hpp>
#include <fcgi/pm/log.hpp>

namespace fcgi::pm {

struct worker_status {
  pid_t pid = 0;
  /// "starting" (up less than min_uptime), "running", "stopping" (SIGTERM sent).
  std::string state;
  clock::time_point started;
  unsigned generation = 0;
};

struct pool_status {
  std::string name;
  std::string listen;
  unsigned configured = 0;  ///< the pool's `workers`
  std::uint64_t restarts = 0;
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
/// "workers_configured":..,"workers":{"starting":..,"running":..,"stopping":..},"restarts":..,
/// "failed_starts_in_a_row":..,"generation":..,"processes":[{"pid":..,"state":..,
/// "uptime_seconds":..,"generation":..}]}]}
std::string to_json(const manager_status& status, clock::time_point now);
/// Prometheus text format 0.0.4: fcgi_pm_uptime_seconds, fcgi_pm_reloads_total,
/// fcgi_pm_workers{pool,state}, fcgi_pm_workers_configured{pool}, fcgi_pm_restarts_total{pool},
/// fcgi_pm_failed_starts_in_a_row{pool}.
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
