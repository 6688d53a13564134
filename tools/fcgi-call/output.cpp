#include "output.hpp"

#include <cerrno>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <string>
#include <system_error>

namespace fcgi_call {

namespace {

namespace fc = fcgi::client;
namespace fp = fcgi::protocol;

int exit_status_of(const std::error_code& error) {
  switch (static_cast<fc::errc>(error.value())) {
    case fc::errc::invalid_endpoint:
    case fc::errc::refused:
    case fc::errc::connect_timeout: return exit_connect;
    case fc::errc::first_byte_timeout:
    case fc::errc::idle_timeout:
    case fc::errc::total_timeout: return exit_timeout;
    case fc::errc::reset:
    case fc::errc::closed_before_end:
    case fc::errc::pool_closed: return exit_closed;
    case fc::errc::protocol_violation:
    case fc::errc::unknown_protocol_status: return exit_protocol;
    case fc::errc::cant_mpx_conn:
    case fc::errc::overloaded:
    case fc::errc::unknown_role: return exit_refused_request;
    case fc::errc::body_read_failed: return exit_body;
    case fc::errc::cancelled: return exit_interrupted;
    case fc::errc::invalid_request: return exit_usage;
    case fc::errc::response_too_large: return exit_output;  // fcgi-call streams; never seen
  }
  return exit_protocol;
}

}  // namespace

std::string escape_control_bytes(std::string_view bytes) {
  static constexpr char hex[] = "0123456789abcdef";
  std::string text;
  text.reserve(bytes.size());
  for (const char c : bytes) {
    const auto byte = static_cast<unsigned char>(c);
    if ((byte >= 0x20 && byte != 0x7f) || c == '\n' || c == '\t') {
      text += c;
    } else {
      text += "\\x";
      text += hex[byte >> 4U];
      text += hex[byte & 0xfU];
    }
  }
  return text;
}

namespace {

void complain(const std::string& message) {
  std::fprintf(stderr, "fcgi-call: %s\n", message.c_str());
}

}  // namespace

response_printer::response_printer(const print_options& options) : options_(options) {
  if (!options_.output_file.empty()) {
    out_ = std::fopen(options_.output_file.c_str(), "wb");
    if (!out_)
      throw std::system_error(errno, std::generic_category(),
                              "cannot write " + options_.output_file);
  }
}

response_printer::~response_printer() {
  if (out_ != stdout) std::fclose(out_);
}

void response_printer::write_out(std::string_view bytes) {
  if (write_failed_ || bytes.empty()) return;
  if (std::fwrite(bytes.data(), 1, bytes.size(), out_) != bytes.size()) write_failed_ = true;
}

void response_printer::write_body(std::string_view bytes) {
  const std::uint64_t received = body_bytes_;
  body_bytes_ += bytes.size();
  const std::optional<std::uint64_t> declared = head_.head().content_length();
  if (declared && body_bytes_ > *declared) {
    // As curl does: bytes past Content-Length are not the body (nginx 1194ba36a).
    const std::uint64_t room = *declared > received ? *declared - received : 0;
    dropped_bytes_ += bytes.size() - room;
    bytes = bytes.substr(0, room);
  }
  write_out(bytes);
}

void response_printer::on_stdout(std::string_view bytes) {
  if (options_.raw) return write_out(bytes);
  if (head_.state() == fp::head_state::complete) return write_body(bytes);
  if (head_.state() == fp::head_state::failed) return;
  const fp::head_progress progress = head_.feed(bytes);
  if (progress.state != fp::head_state::complete) return;
  if (options_.include_head) write_out(head_.head().raw());
  write_body(bytes.substr(progress.consumed));
}

int response_printer::check_content_length() {
  const std::optional<std::uint64_t> declared = head_.head().content_length();
  if (!declared) return exit_ok;
  const unsigned status = head_.head().status();
  const bool bodiless =
      options_.head_request || status == 204 || status == 304 || (status >= 100 && status < 200);
  if (body_bytes_ < *declared && !bodiless) {
    // A short body must never look complete (HOSTILE D-48).
    complain("the response body ended after " + std::to_string(body_bytes_) + " of " +
             std::to_string(*declared) + " bytes (Content-Length)");
    return exit_closed;
  }
  if (dropped_bytes_ > 0) {
    complain("warning: " + std::to_string(dropped_bytes_) +
             " bytes past the response's Content-Length (" + std::to_string(*declared) +
             ") were not printed");
  }
  return exit_ok;
}

void response_printer::on_stderr(std::string_view bytes) {
  if (options_.application_stderr == stderr_mode::ignore) return;
  if (options_.application_stderr == stderr_mode::raw) {
    std::fwrite(bytes.data(), 1, bytes.size(), stderr);
    return;
  }
  const std::string text = escape_control_bytes(bytes);
  std::fwrite(text.data(), 1, text.size(), stderr);
}

int response_printer::finish(const fc::response& response) {
  if (std::fflush(out_) != 0) write_failed_ = true;
  if (response.error) {
    complain(std::string(fc::to_string(static_cast<fc::errc>(response.error.value()))) + ": " +
             response.detail);
    return exit_status_of(response.error);
  }
  if (write_failed_) {
    complain(std::string("cannot write the response: ") + std::strerror(errno));
    return exit_output;
  }
  if (!options_.raw && head_.finish() != fp::errc{}) {
    complain("invalid response head: " + std::string(fp::describe(head_.error())));
    return exit_protocol;
  }
  if (!options_.raw) {
    if (const int status = check_content_length(); status != exit_ok) return status;
  }
  if (response.app_status != 0) {
    complain("the request ended with appStatus " + std::to_string(response.app_status));
    return exit_app_status;
  }
  if (options_.application_stderr == stderr_mode::fail && response.err_bytes > 0) {
    complain("the application wrote " + std::to_string(response.err_bytes) + " bytes to STDERR");
    return exit_stderr;
  }
  if (options_.raw) return exit_ok;
  const unsigned status = head_.head().status();
  if (options_.authorizer && status != 200) {
    complain("denied: the authorizer answered status " + std::to_string(status));
    return exit_http_error;
  }
  if (options_.fail_on_error_status && status >= 400) {
    complain("the application answered status " + std::to_string(status));
    return exit_http_error;
  }
  return exit_ok;
}

int print_values(const fc::values_answer& answer) {
  if (answer.error) {
    complain(std::string(fc::to_string(static_cast<fc::errc>(answer.error.value()))) + ": " +
             answer.detail);
    return exit_status_of(answer.error);
  }
  for (const auto& [name, value] : answer.values)
    std::printf("%s=%s\n", name.c_str(), value.c_str());
  return std::fflush(stdout) == 0 ? exit_ok : exit_output;
}

}  // namespace fcgi_call
