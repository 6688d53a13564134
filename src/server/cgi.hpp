// Internal: serving one request as a plain CGI/1.1 program (RFC 3875), the way fcgi2's
// FCGI_Accept lets the same binary run under a web server's CGI module.
#pragma once

#include <array>

#include <fcgi/server/server.hpp>

namespace fcgi::detail {

/// True when fd 0 is not a socket and the environment carries a CGI request.
bool started_as_cgi() noexcept;

/// Builds the request from the environment and stdin, runs the handler of its role, writes
/// the response to stdout (STDERR records to fd 2). Returns the handler's app status.
int serve_cgi(const std::array<server::handler, 4>& handlers, const server_config& config);

}  // namespace fcgi::detail
