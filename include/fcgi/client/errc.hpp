// What can go wrong with a FastCGI call, as seen by the web-server side. Each value is a
// std::error_code of category "fcgi.client"; the response carries a detail string with the
// specifics (the errno text, the protocol violation and its spec section, ...).
#pragma once

#include <cstdint>
#include <string_view>
#include <system_error>

namespace fcgi::client {

enum class errc : std::uint8_t {
  // Connecting.
  invalid_endpoint = 1,  ///< the endpoint text cannot be parsed or resolved
  refused,               ///< nobody listens there (ECONNREFUSED, ENOENT, EACCES on the path)
  connect_timeout,       ///< the connection was not established in time
  // While the request runs.
  reset,               ///< the connection broke (ECONNRESET, EPIPE, other socket errors)
  closed_before_end,   ///< the application closed the connection before END_REQUEST
  protocol_violation,  ///< the application broke the protocol; the detail names how
  first_byte_timeout,  ///< no response byte arrived in time after the request was sent
  idle_timeout,        ///< the response stalled: no byte for too long
  total_timeout,       ///< the whole call took too long
  cancelled,           ///< the caller cancelled; ABORT_REQUEST was sent
  body_read_failed,    ///< the request body (file or pipe) could not be read
  invalid_request,     ///< the request cannot be encoded (e.g. a param too long, DATA
                       ///< for a role other than Filter)
  // END_REQUEST arrived with a protocol status other than REQUEST_COMPLETE (§5.5).
  cant_mpx_conn,            ///< FCGI_CANT_MPX_CONN: the application does not multiplex
  overloaded,               ///< FCGI_OVERLOADED: the application is out of a resource
  unknown_role,             ///< FCGI_UNKNOWN_ROLE: the application does not serve this role
  unknown_protocol_status,  ///< END_REQUEST with a protocolStatus the spec does not define
  pool_closed,              ///< the client was closed while the call waited
  response_too_large,       ///< collected STDOUT passed pool_settings::max_collected_stdout
};

std::string_view to_string(errc e) noexcept;
const std::error_category& client_category() noexcept;
inline std::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), client_category()};
}

}  // namespace fcgi::client

template <>
struct std::is_error_code_enum<fcgi::client::errc> : std::true_type {};
