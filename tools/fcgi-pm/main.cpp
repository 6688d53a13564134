// fcgi-pm: the FastCGI process manager. Parses the command line and runs fcgi::pm's
// supervisor; the exit status says how it ended (see --help).
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <system_error>

#include <fcgi/client/client.hpp>
#include <fcgi/pm/spawn.hpp>
#include <fcgi/pm/supervisor.hpp>

#include "options.hpp"

namespace {

/// Workers get fds 0-2 rebuilt, and the manager's pipes and sockets must not land there.
void open_standard_fds() {
  for (int fd = 0; fd <= 2; ++fd) {
    if (::fcntl(fd, F_GETFD) < 0) ::open("/dev/null", O_RDWR);  // NOLINT(*-vararg)
  }
}

/// `fcgi-pm status`: 0 with the status on stdout, 3 when the manager cannot be reached.
int print_status(const fcgi_pm::options& opts) {
  fcgi::client::pool_settings settings;
  settings.mpx = fcgi::client::multiplexing::off;
  settings.keep_conn = false;
  settings.timeouts.total = std::chrono::seconds(5);
  try {
    fcgi::client::client client(opts.status_endpoint, settings);
    fcgi::protocol::cgi_request http;
    http.target = opts.status_prometheus ? "/?format=prometheus" : "/";
    const auto request = fcgi::client::http_request(http);
    const fcgi::client::response response = client.call(request.value());
    const auto parsed = fcgi::client::parse_response(response);
    if (!response.ok() || !parsed) {
      std::fprintf(stderr, "fcgi-pm status: %s: %s\n", opts.status_endpoint.c_str(),
                   response.ok() ? "not a status answer" : response.detail.c_str());
      return 3;
    }
    std::fwrite(parsed.value().body.data(), 1, parsed.value().body.size(), stdout);
    return 0;
  } catch (const std::invalid_argument& e) {
    std::fprintf(stderr, "fcgi-pm status: %s\n", e.what());
    return 2;
  }
}

}  // namespace

int main(int argc, char** argv) {
  open_standard_fds();
  std::optional<fcgi_pm::options> opts;
  try {
    opts = fcgi_pm::parse(argc, argv);
  } catch (const fcgi::pm::config_error& e) {
    std::fprintf(stderr, "fcgi-pm: %s\n", e.what());
    return 2;
  }
  if (!opts) return 0;
  if (!opts->status_endpoint.empty()) return print_status(*opts);
  const fcgi::pm::logger log(opts->log_format);
  try {
    if (opts->test_only) {
      std::vector<fcgi::pm::pool_config> pools = opts->manager.command_line_pools;
      if (!opts->manager.config_file.empty()) {
        auto file = fcgi::pm::load_config_file(opts->manager.config_file);
        pools.insert(pools.end(), file.begin(), file.end());
      }
      fcgi::pm::validate_all(pools);
      for (const auto& pool : pools) {
        fcgi::pm::check_privileges(pool, ::geteuid() == 0, opts->manager.allow_root);
        fcgi::pm::resolve_identity(pool);
        const std::string size = pool.mode == fcgi::pm::pool_mode::static_size
                                     ? std::to_string(pool.workers) + " worker(s)"
                                     : std::string(fcgi::pm::to_string(pool.mode)) + ", at most " +
                                           std::to_string(pool.max_workers) + " worker(s)";
        std::printf("pool %s: %s, %s\n", pool.name.c_str(), pool.listen.to_string().c_str(),
                    size.c_str());
      }
      std::printf("the configuration is valid\n");
      return 0;
    }
    fcgi::pm::supervisor manager(opts->manager, log);
    return manager.run();
  } catch (const fcgi::pm::config_error& e) {
    std::fprintf(stderr, "fcgi-pm: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fcgi-pm: cannot start: %s\n", e.what());
    return 1;
  }
}
