// fcgi-pm's command line: the options of one pool given on the command line (`-- ./app`),
// the config file, and the manager's own settings. See docs/fcgi-pm.md.
#pragma once

#include <optional>
#include <string>

#include <fcgi/pm/log.hpp>
#include <fcgi/pm/supervisor.hpp>

namespace fcgi_pm {

struct options {
  fcgi::pm::supervisor_options manager;
  fcgi::pm::log_format log_format = fcgi::pm::log_format::text;
  bool test_only = false;  ///< -t: check the configuration and exit
  /// `fcgi-pm status ENDPOINT`: print a running manager's status and exit.
  std::string status_endpoint;
  bool status_prometheus = false;
};

/// Parses the command line. Returns nullopt after printing --help or --version (exit 0);
/// throws fcgi::pm::config_error for a usage or validation error (exit 2).
std::optional<options> parse(int argc, char** argv);

}  // namespace fcgi_pm
