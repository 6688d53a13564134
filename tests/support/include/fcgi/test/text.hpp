// Bytes as readable, lossless text for test logs and transcripts.
//
// A byte string is written as a "string expression": quoted literals with C escapes and
// runs of one repeated byte written as "c"*N, joined by " + ":
//
//   ""                        the empty string
//   "Hello\r\n"               a literal; escapes: \\ \" \n \r \t \xNN (exactly two hex digits)
//   "x"*65528                 65528 bytes 'x'
//   "ab" + "\x00"*20 + "cd"   concatenation
//
// render_bytes writes runs of 16 or more equal bytes as "c"*N, so a megabyte body stays one
// short line, and parse_bytes reads what render_bytes writes (plus octal escapes like \013,
// the spec's own notation in Appendix B, and "+" without spaces).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <fcgi/protocol/record.hpp>

namespace fcgi::test {

/// The string expression for `bytes` (see above).
std::string render_bytes(std::string_view bytes);

/// Parses a string expression into `out`. On failure returns false and, if `error` is not
/// null, says why.
bool parse_bytes(std::string_view expression, std::string& out, std::string* error = nullptr);

/// A name or value inside a pair list: bare when it is made only of characters that cannot
/// be mistaken for list syntax (letters, digits and _-./:;?&%@~!'()[]|^$#), else a string
/// expression. `allow_equals` lets a value keep '=' bare (only the first '=' splits a pair).
std::string render_pair_part(std::string_view text, bool allow_equals);

/// Encoded pairs (§3.4) as "{NAME=value, NAME2=value2}", or nullopt when `encoded` is not a
/// sequence of whole pairs.
std::optional<std::string> render_pairs(protocol::bytes_view encoded);

}  // namespace fcgi::test
