#include <fcgi/test/output_decoder.hpp>

#include <array>
#include <ostream>

#include <gtest/gtest.h>

#include <fcgi/test/text.hpp>

namespace fcgi::test {
namespace {

unsigned byte_at(bytes_view data, std::size_t i) { return std::to_integer<unsigned>(data[i]); }

std::uint32_t big_endian(std::string_view s, std::size_t at, std::size_t count) {
  std::uint32_t value = 0;
  for (std::size_t i = 0; i < count; ++i) {
    value = (value << 8U) | static_cast<unsigned char>(s[at + i]);
  }
  return value;
}

/// The body of a fixed-size record (§4.2, §5.1, §5.5), or "" when it is not 8 bytes.
std::string format_fixed_body(const decoded_record& r) {
  if (r.content.size() != protocol::fixed_body_size) return {};
  const std::string_view c = r.content;
  if (r.is(protocol::record_type::begin_request)) {
    const auto role = static_cast<std::uint16_t>(big_endian(c, 0, 2));
    const auto flags = static_cast<unsigned char>(c[2]);
    std::string f = flags == 0                          ? "0"
                    : flags == protocol::keep_conn_flag ? "KEEP_CONN"
                                                        : "flags=" + std::to_string(flags);
    return "{" + role_name(role) + ", " + f + "}";
  }
  if (r.is(protocol::record_type::end_request)) {
    return "{" + std::to_string(big_endian(c, 0, 4)) + ", " +
           status_name(static_cast<std::uint8_t>(c[4])) + "}";
  }
  if (r.is(protocol::record_type::unknown_type)) {
    return "{" + std::to_string(static_cast<unsigned char>(c[0])) + "}";
  }
  return {};
}

std::string format_body(const decoded_record& r) {
  using protocol::record_type;
  if (std::string fixed = format_fixed_body(r); !fixed.empty()) return fixed;
  const bool management = r.is(record_type::get_values) || r.is(record_type::get_values_result);
  if (management || (r.is(record_type::params) && !r.content.empty())) {
    if (auto list = render_pairs(protocol::as_bytes(r.content))) return *list;
  }
  return render_bytes(r.content);
}

}  // namespace

std::string type_name(std::uint8_t type) {
  static constexpr std::array<const char*, 12> names{"TYPE_0",
                                                     "BEGIN_REQUEST",
                                                     "ABORT_REQUEST",
                                                     "END_REQUEST",
                                                     "PARAMS",
                                                     "STDIN",
                                                     "STDOUT",
                                                     "STDERR",
                                                     "DATA",
                                                     "GET_VALUES",
                                                     "GET_VALUES_RESULT",
                                                     "UNKNOWN_TYPE"};
  if (type < names.size() && type != 0) return names[type];
  return "TYPE_" + std::to_string(type);
}

std::string role_name(std::uint16_t role) {
  switch (role) {
    case 1: return "RESPONDER";
    case 2: return "AUTHORIZER";
    case 3: return "FILTER";
    default: return "ROLE_" + std::to_string(role);
  }
}

std::string status_name(std::uint8_t status) {
  switch (status) {
    case 0: return "REQUEST_COMPLETE";
    case 1: return "CANT_MPX_CONN";
    case 2: return "OVERLOADED";
    case 3: return "UNKNOWN_ROLE";
    default: return "STATUS_" + std::to_string(status);
  }
}

bytes drain(protocol::output_queue& queue) {
  bytes out;
  std::array<bytes_view, 8> slices{};
  while (!queue.empty()) {
    const std::size_t filled = queue.gather(slices);
    std::size_t taken = 0;
    for (std::size_t i = 0; i < filled; ++i) {
      out += slices[i];
      taken += slices[i].size();
    }
    if (taken == 0) {
      ADD_FAILURE() << "output_queue::gather() gave no bytes while size() = " << queue.size();
      queue.clear();
      break;
    }
    queue.consume(taken);
  }
  return out;
}

std::vector<decoded_record> decode_records(bytes_view data, std::size_t* trailing) {
  std::vector<decoded_record> out;
  std::size_t at = 0;
  while (data.size() - at >= protocol::header_size) {
    const std::size_t length = (byte_at(data, at + 4) << 8U) | byte_at(data, at + 5);
    const std::size_t padding = byte_at(data, at + 6);
    if (data.size() - at < protocol::header_size + length + padding) break;
    decoded_record r;
    r.version = static_cast<std::uint8_t>(byte_at(data, at));
    r.type = static_cast<std::uint8_t>(byte_at(data, at + 1));
    r.request_id =
        static_cast<std::uint16_t>((byte_at(data, at + 2) << 8U) | byte_at(data, at + 3));
    r.padding = static_cast<std::uint8_t>(padding);
    r.reserved = static_cast<std::uint8_t>(byte_at(data, at + 7));
    r.content = to_text(data.subspan(at + protocol::header_size, length));
    for (std::size_t i = 0; i < padding; ++i) {
      r.padding_zero =
          r.padding_zero && byte_at(data, at + protocol::header_size + length + i) == 0;
    }
    out.push_back(std::move(r));
    at += protocol::header_size + length + padding;
  }
  if (trailing != nullptr) *trailing = data.size() - at;
  return out;
}

std::vector<decoded_record> drain_records(protocol::output_queue& queue) {
  const bytes data = drain(queue);
  std::size_t trailing = 0;
  std::vector<decoded_record> records = decode_records(data, &trailing);
  if (trailing != 0)
    ADD_FAILURE() << "output ends with " << trailing << " bytes of a partial record";
  return records;
}

std::string format_record(const decoded_record& r) {
  std::string out = "{" + type_name(r.type) + ", " + std::to_string(r.request_id);
  if (r.is(protocol::record_type::abort_request) && r.content.empty()) {
    out += "}";
  } else {
    out += ", " + format_body(r) + "}";
  }
  if (r.padding != protocol::padding_for(r.content.size())) {
    out += " padding=" + std::to_string(r.padding);
  }
  if (!r.padding_zero) out += " nonzero-padding";
  if (r.version != protocol::version_1) out += " version=" + std::to_string(r.version);
  if (r.reserved != 0) out += " reserved=" + std::to_string(r.reserved);
  return out;
}

std::vector<std::string> format_records(const std::vector<decoded_record>& records) {
  std::vector<std::string> out;
  out.reserve(records.size());
  for (const decoded_record& r : records) out.push_back(format_record(r));
  return out;
}

void PrintTo(const decoded_record& r, std::ostream* os) { *os << format_record(r); }

}  // namespace fcgi::test
