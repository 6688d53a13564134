#include <fcgi/client/errc.hpp>

#include <string>

namespace fcgi::client {

std::string_view to_string(errc e) noexcept {
  switch (e) {
    case errc::invalid_endpoint: return "invalid endpoint";
    case errc::refused: return "connection refused";
    case errc::connect_timeout: return "connect timed out";
    case errc::reset: return "connection reset";
    case errc::closed_before_end: return "application closed the connection before END_REQUEST";
    case errc::protocol_violation: return "protocol violation by the application";
    case errc::first_byte_timeout: return "no response within the first-byte timeout";
    case errc::idle_timeout: return "response stalled (idle timeout)";
    case errc::total_timeout: return "call exceeded the total timeout";
    case errc::cancelled: return "cancelled";
    case errc::body_read_failed: return "request body could not be read";
    case errc::invalid_request: return "request cannot be encoded";
    case errc::cant_mpx_conn: return "application cannot multiplex (FCGI_CANT_MPX_CONN)";
    case errc::overloaded: return "application overloaded (FCGI_OVERLOADED)";
    case errc::unknown_role: return "application does not serve this role (FCGI_UNKNOWN_ROLE)";
    case errc::unknown_protocol_status: return "END_REQUEST with an undefined protocolStatus";
    case errc::pool_closed: return "client closed";
    case errc::response_too_large: return "response larger than the collection limit";
  }
  return "unknown fcgi.client error";
}

namespace {

class category final : public std::error_category {
 public:
  [[nodiscard]] const char* name() const noexcept override { return "fcgi.client"; }
  [[nodiscard]] std::string message(int value) const override {
    return std::string(to_string(static_cast<errc>(value)));
  }
};

}  // namespace

const std::error_category& client_category() noexcept {
  static const category instance;
  return instance;
}

}  // namespace fcgi::client
