// A conformance transcript: one case of tests/conformance/cases/*.txt, parsed (format in
// README.md). Parsing turns the readable notation into bytes, actions and expectations; the
// replay (replay.hpp) runs it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <fcgi/protocol/app_connection.hpp>
#include <fcgi/protocol/client_connection.hpp>
#include <fcgi/test/record_builder.hpp>

namespace fcgi::conformance {

/// A malformed transcript; what() names the file and line.
class transcript_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class side : std::uint8_t { app, client };

/// A request named in an action: id, and which of the keys seen on that id (0 = latest).
struct key_ref {
  std::uint16_t id = 0;
  std::size_t ordinal = 0;
};

/// A "!" line: a call made on the connection after the input before it was fed.
struct action {
  int line = 0;
  std::string text;
  std::string verb;
  key_ref key;
  std::string payload;                                     ///< write_*, stdin, data
  std::vector<std::pair<std::string, std::string>> pairs;  ///< params
  std::vector<std::string> names;                          ///< get_values
  std::uint32_t number = 0;                                ///< end_request appStatus
  std::uint8_t status = 0;                                 ///< reject_request protocolStatus
  std::uint16_t role = 1;                                  ///< begin
  bool keep_conn = false;                                  ///< begin
  std::string expect = "ok";  ///< "ok", an errc name, or (begin) the id it must get
};

/// A "?" line: connection state compared at that point.
struct check {
  int line = 0;
  std::string text;
  std::vector<std::pair<std::string, std::uint64_t>> items;
};

/// Input fed up to a checkpoint, what must come out, then the checkpoint's action or check.
struct step {
  int line = 0;  ///< line of the checkpoint (or the last line at the end)
  test::bytes input;
  std::vector<std::size_t> boundaries;  ///< record starts within `input`, for split sampling
  std::vector<std::string> events;
  std::vector<std::string> output;
  std::optional<action> act;
  std::optional<check> chk;
};

struct transcript {
  std::string name;
  std::string intent;
  side which = side::app;
  protocol::app_settings app;
  protocol::client_settings client;
  std::vector<step> steps;

  [[nodiscard]] std::size_t input_size() const noexcept;
};

/// Parses `text`; `name` is used in error messages. Throws transcript_error.
transcript parse_transcript(const std::string& text, const std::string& name);
/// Reads and parses a file. Throws transcript_error.
transcript load_transcript(const std::string& path);

}  // namespace fcgi::conformance
