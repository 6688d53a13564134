// Drives the connection state machines in tests and renders what they did as lines of text,
// so a test reads as "these bytes in -> these events and these records out" and a failure
// prints both transcripts side by side.
//
// Output records are decoded with the independent parser of test_util.hpp, never with the
// library's own decoder.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include <fcgi/protocol/app_connection.hpp>
#include <fcgi/protocol/client_connection.hpp>

#include "test_util.hpp"

namespace fcgi_test {

using lines = std::vector<std::string>;

/// Printable ASCII as is, anything else as \xNN, so binary payloads stay readable.
inline std::string escape(std::string_view text) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u < 0x7f && c != '\\' && c != '"') {
      out += c;
    } else {
      out += "\\x";
      out += digits[u >> 4];
      out += digits[u & 0xf];
    }
  }
  return out;
}

inline std::string in_quotes(std::string_view text) { return '"' + escape(text) + '"'; }

/// An independent §3.4 decoder for well-formed blocks; reports a failure otherwise.
inline pair_list parse_pairs(std::string_view block) {
  pair_list out;
  std::size_t at = 0;
  const auto length = [&](std::size_t& value) {
    if (at >= block.size()) return false;
    const auto first = static_cast<unsigned char>(block[at]);
    if (first < 0x80) {
      value = first;
      at += 1;
      return true;
    }
    if (block.size() - at < 4) return false;
    const auto byte_at = [&](std::size_t i) {
      return std::size_t{static_cast<unsigned char>(block[at + i])};
    };
    value = ((byte_at(0) & 0x7fU) << 24) | (byte_at(1) << 16) | (byte_at(2) << 8) | byte_at(3);
    at += 4;
    return true;
  };
  while (at < block.size()) {
    std::size_t name_length = 0;
    std::size_t value_length = 0;
    if (!length(name_length) || !length(value_length) ||
        block.size() - at < name_length + value_length) {
      ADD_FAILURE() << "malformed pair block " << in_quotes(block);
      break;
    }
    out.emplace_back(std::string(block.substr(at, name_length)),
                     std::string(block.substr(at + name_length, value_length)));
    at += name_length + value_length;
  }
  return out;
}

inline std::string render_pairs(const pair_list& pairs) {
  std::string out = "[";
  for (const auto& [name, value] : pairs) {
    if (out.size() > 1) out += ";";
    out += escape(name) + "=" + escape(value);
  }
  return out + "]";
}

inline pair_list copy_pairs(const fcgi::protocol::param_list& list) {
  pair_list out;
  for (const fcgi::protocol::param& p : list) out.emplace_back(p.name, p.value);
  return out;
}

inline std::string render_error(const fcgi::protocol::protocol_error& e) {
  return std::string(to_string(e.code)) + " " + std::string(to_string(e.action)) +
         " id=" + std::to_string(e.request_id) + " @" + std::to_string(e.offset);
}

// ---------------------------------------------------------------------------------------------
// Output records

inline std::uint32_t big_endian_32(std::string_view four) {
  std::uint32_t value = 0;
  for (const char c : four.substr(0, 4)) value = (value << 8) | static_cast<unsigned char>(c);
  return value;
}

inline std::string status_name(unsigned status) {
  switch (status) {
    case 0: return "REQUEST_COMPLETE";
    case 1: return "CANT_MPX_CONN";
    case 2: return "OVERLOADED";
    case 3: return "UNKNOWN_ROLE";
    default: return "status" + std::to_string(status);
  }
}

/// One line per record: "STDOUT 1 \"text\"", "END_REQUEST 1 app=0 REQUEST_COMPLETE",
/// "UNKNOWN_TYPE 0 type=12", "GET_VALUES_RESULT 0 [A=1;B=2]", ...
inline std::string render_record(const parsed_record& r) {
  const std::string head =
      std::string(to_string(static_cast<fcgi::protocol::record_type>(r.type))) +
      (r.type == 0 || r.type > 11 ? "(" + std::to_string(r.type) + ")" : "") + " " +
      std::to_string(r.id);
  switch (r.type) {
    case 1:  // BEGIN_REQUEST
      if (r.content.size() == 8) {
        const unsigned role = (unsigned{static_cast<unsigned char>(r.content[0])} << 8U) |
                              unsigned{static_cast<unsigned char>(r.content[1])};
        return head + " role=" + std::to_string(role) +
               " flags=" + std::to_string(static_cast<unsigned char>(r.content[2]));
      }
      break;
    case 3:  // END_REQUEST
      if (r.content.size() == 8) {
        return head + " app=" + std::to_string(big_endian_32(r.content)) + " " +
               status_name(static_cast<unsigned char>(r.content[4]));
      }
      break;
    case 11:  // UNKNOWN_TYPE
      if (r.content.size() == 8) {
        return head + " type=" + std::to_string(static_cast<unsigned char>(r.content[0]));
      }
      break;
    case 4:
    case 9:
    case 10:  // PARAMS, GET_VALUES, GET_VALUES_RESULT
      return head + " " + render_pairs(parse_pairs(r.content));
    default:
      if (r.content.empty()) return head;
      return head + " " + in_quotes(r.content);
  }
  return head + " malformed " + in_quotes(r.content);
}

/// Drains `queue` and renders its records.
inline lines output_records(fcgi::protocol::output_queue& queue) {
  const byte_vector bytes = drain(queue);
  lines out;
  for (const parsed_record& r : parse_records(bytes)) out.push_back(render_record(r));
  return out;
}

// ---------------------------------------------------------------------------------------------
// app_connection

/// A copy of an app_event that outlives the input it viewed.
struct app_record {
  fcgi::protocol::app_event_kind kind{};
  fcgi::protocol::request_key request;
  fcgi::protocol::role request_role{};
  bool keep_conn = false;
  pair_list params;
  std::string bytes;
  fcgi::protocol::protocol_error error;
  fcgi::protocol::protocol_status rejected_status{};
};

inline app_record copy_event(const fcgi::protocol::app_event& ev) {
  app_record r;
  r.kind = ev.kind;
  r.request = ev.request;
  r.request_role = ev.request_role;
  r.keep_conn = ev.keep_conn;
  r.params = copy_pairs(ev.params);
  r.bytes = text_of(ev.bytes);
  r.error = ev.error;
  r.rejected_status = ev.rejected_status;
  return r;
}

inline std::string render(const app_record& r) {
  using fcgi::protocol::app_event_kind;
  // A connection_error belongs to no request: its error names the record's id.
  if (r.kind == app_event_kind::connection_error) {
    return std::string(to_string(r.kind)) + " " + render_error(r.error);
  }
  std::string line = std::string(to_string(r.kind)) + " " + std::to_string(r.request.id);
  switch (r.kind) {
    case app_event_kind::params_ready:
      return line + " " + std::string(to_string(r.request_role)) +
             (r.keep_conn ? " keep_conn " : " close ") + render_pairs(r.params);
    case app_event_kind::stdin_chunk:
    case app_event_kind::data_chunk: return line + " " + in_quotes(r.bytes);
    case app_event_kind::request_failed: return line + " " + render_error(r.error);
    case app_event_kind::request_rejected:
      return line + " " + std::string(to_string(r.rejected_status));
    default: return line;
  }
}

inline lines render(const std::vector<app_record>& records) {
  lines out;
  for (const app_record& r : records) out.push_back(render(r));
  return out;
}

/// Feeds `input` in one call sequence: every event until need_more or the first
/// connection_error (which repeats forever). need_more must leave no byte unconsumed.
inline std::vector<app_record> feed_records(fcgi::protocol::app_connection& conn,
                                            bytes_view input) {
  std::vector<app_record> out;
  bytes_view rest = input;
  for (int guard = 0; guard < 10'000'000; ++guard) {
    const fcgi::protocol::app_event ev = conn.next_event(rest);
    if (ev.kind == fcgi::protocol::app_event_kind::need_more) {
      EXPECT_TRUE(rest.empty()) << "need_more with " << rest.size() << " bytes unconsumed";
      return out;
    }
    out.push_back(copy_event(ev));
    if (ev.kind == fcgi::protocol::app_event_kind::connection_error) return out;
  }
  ADD_FAILURE() << "next_event never reported need_more";
  return out;
}

/// Feeds `input` in pieces of at most `chunk` bytes (stops after a connection_error).
inline std::vector<app_record> feed_records(fcgi::protocol::app_connection& conn, bytes_view input,
                                            std::size_t chunk) {
  std::vector<app_record> out;
  while (!input.empty()) {
    const std::size_t n = std::min(chunk, input.size());
    for (app_record& r : feed_records(conn, input.first(n))) out.push_back(std::move(r));
    input = input.subspan(n);
    if (!out.empty() && out.back().kind == fcgi::protocol::app_event_kind::connection_error) break;
  }
  return out;
}

/// Splitting the input changes how many chunk events a stream yields, not what they carry:
/// merge consecutive chunks of the same kind and request.
inline std::vector<app_record> coalesce(const std::vector<app_record>& records) {
  std::vector<app_record> out;
  for (const app_record& r : records) {
    const bool chunk = r.kind == fcgi::protocol::app_event_kind::stdin_chunk ||
                       r.kind == fcgi::protocol::app_event_kind::data_chunk;
    if (chunk && !out.empty() && out.back().kind == r.kind && out.back().request == r.request) {
      out.back().bytes += r.bytes;
    } else {
      out.push_back(r);
    }
  }
  return out;
}

inline lines feed(fcgi::protocol::app_connection& conn, bytes_view input) {
  return render(feed_records(conn, input));
}

// ---------------------------------------------------------------------------------------------
// client_connection

struct client_record {
  fcgi::protocol::client_event_kind kind{};
  fcgi::protocol::request_key request;
  std::string bytes;
  fcgi::protocol::end_request_body end;
  pair_list values;
  std::uint8_t unknown_type = 0;
  fcgi::protocol::protocol_error error;
};

inline client_record copy_event(const fcgi::protocol::client_event& ev) {
  client_record r;
  r.kind = ev.kind;
  r.request = ev.request;
  r.bytes = text_of(ev.bytes);
  r.end = ev.end;
  r.values = copy_pairs(ev.values);
  r.unknown_type = ev.unknown_type;
  r.error = ev.error;
  return r;
}

inline std::string render(const client_record& r) {
  using fcgi::protocol::client_event_kind;
  std::string line = std::string(to_string(r.kind));
  switch (r.kind) {
    case client_event_kind::stdout_chunk:
    case client_event_kind::stderr_chunk:
      return line + " " + std::to_string(r.request.id) + " " + in_quotes(r.bytes);
    case client_event_kind::stdout_end:
    case client_event_kind::stderr_end: return line + " " + std::to_string(r.request.id);
    case client_event_kind::request_ended:
      return line + " " + std::to_string(r.request.id) +
             " app=" + std::to_string(r.end.app_status) + " " + status_name(r.end.protocol_status);
    case client_event_kind::values_result: return line + " " + render_pairs(r.values);
    case client_event_kind::unknown_type: return line + " type=" + std::to_string(r.unknown_type);
    case client_event_kind::connection_error: return line + " " + render_error(r.error);
    default: return line;
  }
}

inline lines render(const std::vector<client_record>& records) {
  lines out;
  for (const client_record& r : records) out.push_back(render(r));
  return out;
}

inline std::vector<client_record> feed_records(fcgi::protocol::client_connection& conn,
                                               bytes_view input) {
  std::vector<client_record> out;
  bytes_view rest = input;
  for (int guard = 0; guard < 10'000'000; ++guard) {
    const fcgi::protocol::client_event ev = conn.next_event(rest);
    if (ev.kind == fcgi::protocol::client_event_kind::need_more) {
      EXPECT_TRUE(rest.empty()) << "need_more with " << rest.size() << " bytes unconsumed";
      return out;
    }
    out.push_back(copy_event(ev));
    if (ev.kind == fcgi::protocol::client_event_kind::connection_error) return out;
  }
  ADD_FAILURE() << "next_event never reported need_more";
  return out;
}

inline std::vector<client_record> feed_records(fcgi::protocol::client_connection& conn,
                                               bytes_view input, std::size_t chunk) {
  std::vector<client_record> out;
  while (!input.empty()) {
    const std::size_t n = std::min(chunk, input.size());
    for (client_record& r : feed_records(conn, input.first(n))) out.push_back(std::move(r));
    input = input.subspan(n);
    if (!out.empty() && out.back().kind == fcgi::protocol::client_event_kind::connection_error) {
      break;
    }
  }
  return out;
}

inline std::vector<client_record> coalesce(const std::vector<client_record>& records) {
  std::vector<client_record> out;
  for (const client_record& r : records) {
    const bool chunk = r.kind == fcgi::protocol::client_event_kind::stdout_chunk ||
                       r.kind == fcgi::protocol::client_event_kind::stderr_chunk;
    if (chunk && !out.empty() && out.back().kind == r.kind && out.back().request == r.request) {
      out.back().bytes += r.bytes;
    } else {
      out.push_back(r);
    }
  }
  return out;
}

inline lines feed(fcgi::protocol::client_connection& conn, bytes_view input) {
  return render(feed_records(conn, input));
}

}  // namespace fcgi_test
