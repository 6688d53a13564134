// The synchronous FastCGI client: calls an application (ours, php-fpm, libfcgi apps, Go's
// net/http/fcgi, fcgiwrap, ...) from ordinary blocking code. It keeps a pool of connections
// to one endpoint between calls, multiplexes when the application allows it, and reports
// every failure as a client::errc with a detail for people. No Asio in this header.
//
// A client is not thread-safe: use one per thread (or the coroutine client, async.hpp).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <fcgi/client/errc.hpp>
#include <fcgi/client/request.hpp>

namespace fcgi::client {

class client {
 public:
  /// `endpoint`: `unix:PATH`, `tcp:HOST:PORT`, `tcp:[IPV6]:PORT`, or the shorthands `/PATH`
  /// and `HOST:PORT`. Throws std::invalid_argument naming the accepted forms.
  explicit client(std::string_view endpoint, const pool_settings& settings = {});
  ~client();
  client(const client&) = delete;
  client& operator=(const client&) = delete;
  client(client&&) noexcept;
  client& operator=(client&&) noexcept;

  /// Sends `r` and waits for END_REQUEST, a failure or a timeout; never throws for what the
  /// application or the network does.
  response call(const request& r);
  /// Asks the application for `names` (FCGI_MAX_CONNS, FCGI_MAX_REQS, FCGI_MPXS_CONNS) on a
  /// connection of its own, waiting at most `timeout`.
  values_answer get_values(const std::vector<std::string>& names,
                           std::chrono::milliseconds timeout = std::chrono::seconds(2));
  [[nodiscard]] pool_stats stats() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace fcgi::client
