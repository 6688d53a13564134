// Reading what a state machine queued: output_queue bytes back into records, and records as
// text in the spec's own notation (§3.3, Appendix B), e.g.
//
//   {STDOUT, 1, "Hello"}
//   {END_REQUEST, 1, {0, REQUEST_COMPLETE}}        (appStatus, protocolStatus, as in §B)
//   {GET_VALUES_RESULT, 0, {FCGI_MAX_CONNS=1024}}
//   {UNKNOWN_TYPE, 0, {99}}
//   {BEGIN_REQUEST, 1, {RESPONDER, KEEP_CONN}}
//
// Anything unusual about the framing is appended so it cannot go unnoticed: " padding=N"
// when the padding is not the 8-byte alignment padding, " nonzero-padding",
// " version=N", " reserved=N".
#pragma once

#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

#include <fcgi/protocol/output_queue.hpp>
#include <fcgi/protocol/record.hpp>
#include <fcgi/test/record_builder.hpp>

namespace fcgi::test {

struct decoded_record {
  std::uint8_t version = protocol::version_1;
  std::uint8_t type = 0;
  std::uint16_t request_id = 0;
  std::string content;
  std::uint8_t padding = 0;
  bool padding_zero = true;  ///< all padding bytes were 0
  std::uint8_t reserved = 0;

  [[nodiscard]] bool is(protocol::record_type t) const noexcept {
    return type == static_cast<std::uint8_t>(t);
  }
  friend bool operator==(const decoded_record&, const decoded_record&) = default;
};

/// Spec names without the FCGI_ prefix ("STDOUT"); "TYPE_<n>" for types §8 does not define.
std::string type_name(std::uint8_t type);
/// "RESPONDER", "AUTHORIZER", "FILTER"; "ROLE_<n>" otherwise.
std::string role_name(std::uint16_t role);
/// "REQUEST_COMPLETE", "CANT_MPX_CONN", "OVERLOADED", "UNKNOWN_ROLE"; "STATUS_<n>" otherwise.
std::string status_name(std::uint8_t status);

/// Everything pending in `queue`, gathered and consumed.
bytes drain(protocol::output_queue& queue);

/// Splits `data` into whole records. Bytes after the last whole record are not decoded; their
/// count goes to `trailing` (a test usually expects 0).
std::vector<decoded_record> decode_records(bytes_view data, std::size_t* trailing = nullptr);

/// drain() then decode_records(); adds a gtest failure if the queue ends mid-record.
std::vector<decoded_record> drain_records(protocol::output_queue& queue);

/// One record in the notation above.
std::string format_record(const decoded_record& r);
std::vector<std::string> format_records(const std::vector<decoded_record>& records);

/// Lets gtest print records readably in assertion messages.
void PrintTo(const decoded_record& r, std::ostream* os);

}  // namespace fcgi::test
