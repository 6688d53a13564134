#include <fcgi/test/text.hpp>

#include <charconv>
#include <cstdint>
#include <string>

#include <fcgi/protocol/params.hpp>

namespace fcgi::test {
namespace {

// Runs at least this long are written as "c"*N.
constexpr std::size_t min_run = 16;

void append_escaped(std::string& out, char c) {
  const auto u = static_cast<unsigned char>(c);
  switch (c) {
    case '\\': out += "\\\\"; return;
    case '"': out += "\\\""; return;
    case '\n': out += "\\n"; return;
    case '\r': out += "\\r"; return;
    case '\t': out += "\\t"; return;
    default: break;
  }
  if (u >= 0x20 && u < 0x7f) {
    out += c;
    return;
  }
  constexpr std::string_view digits = "0123456789abcdef";
  out += "\\x";
  out += digits[u >> 4U];
  out += digits[u & 0xfU];
}

std::size_t run_length(std::string_view bytes, std::size_t at) {
  std::size_t end = at + 1;
  while (end < bytes.size() && bytes[end] == bytes[at]) ++end;
  return end - at;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool fail(std::string* error, std::string message) {
  if (error != nullptr) *error = std::move(message);
  return false;
}

/// Parses one quoted literal starting at `at` (the opening quote); leaves `at` after it.
bool parse_literal(std::string_view text, std::size_t& at, std::string& out, std::string* error) {
  ++at;  // opening quote
  while (at < text.size() && text[at] != '"') {
    char c = text[at++];
    if (c != '\\') {
      out += c;
      continue;
    }
    if (at >= text.size()) return fail(error, "escape at end of expression");
    c = text[at++];
    switch (c) {
      case '\\': out += '\\'; break;
      case '"': out += '"'; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case 't': out += '\t'; break;
      case 'x': {
        if (text.size() - at < 2 || hex_value(text[at]) < 0 || hex_value(text[at + 1]) < 0) {
          return fail(error, "\\x needs two hex digits");
        }
        out += static_cast<char>(hex_value(text[at]) * 16 + hex_value(text[at + 1]));
        at += 2;
        break;
      }
      default: {
        if (c < '0' || c > '7') return fail(error, std::string("unknown escape \\") + c);
        // Octal, up to three digits, as the spec's Appendix B writes lengths ("\013").
        unsigned value = static_cast<unsigned>(c - '0');
        for (int i = 0; i < 2 && at < text.size() && text[at] >= '0' && text[at] <= '7'; ++i) {
          value = value * 8 + static_cast<unsigned>(text[at++] - '0');
        }
        if (value > 0xff) return fail(error, "octal escape above \\377");
        out += static_cast<char>(value);
        break;
      }
    }
  }
  if (at >= text.size()) return fail(error, "unterminated string literal");
  ++at;  // closing quote
  return true;
}

void skip_spaces(std::string_view text, std::size_t& at) {
  while (at < text.size() && (text[at] == ' ' || text[at] == '\t')) ++at;
}

bool is_bare_char(char c, bool allow_equals) {
  if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) return true;
  if (c == '=') return allow_equals;
  constexpr std::string_view punctuation = "_-./:;?&%@~!'()[]|^$#";
  return punctuation.find(c) != std::string_view::npos;
}

}  // namespace

std::string render_bytes(std::string_view bytes) {
  if (bytes.empty()) return "\"\"";
  std::string out;
  bool in_literal = false;
  std::size_t at = 0;
  while (at < bytes.size()) {
    const std::size_t run = run_length(bytes, at);
    if (run >= min_run) {
      if (in_literal) out += '"';
      if (!out.empty()) out += " + ";
      out += '"';
      append_escaped(out, bytes[at]);
      out += "\"*";
      out += std::to_string(run);
      in_literal = false;
      at += run;
      continue;
    }
    if (!in_literal) {
      if (!out.empty()) out += " + ";
      out += '"';
      in_literal = true;
    }
    for (std::size_t i = 0; i < run; ++i) append_escaped(out, bytes[at]);
    at += run;
  }
  if (in_literal) out += '"';
  return out;
}

bool parse_bytes(std::string_view expression, std::string& out, std::string* error) {
  out.clear();
  std::size_t at = 0;
  skip_spaces(expression, at);
  if (at >= expression.size()) return fail(error, "empty expression");
  for (;;) {
    skip_spaces(expression, at);
    if (at >= expression.size() || expression[at] != '"') {
      return fail(error, "expected a quoted string in: " + std::string(expression));
    }
    std::string literal;
    if (!parse_literal(expression, at, literal, error)) return false;
    if (at < expression.size() && expression[at] == '*') {
      ++at;
      std::size_t count = 0;
      const char* first = expression.data() + at;
      const char* last = expression.data() + expression.size();
      const auto [end, ec] = std::from_chars(first, last, count);
      if (ec != std::errc{} || end == first) return fail(error, "'*' needs a count");
      at += static_cast<std::size_t>(end - first);
      out.reserve(out.size() + literal.size() * count);
      for (std::size_t i = 0; i < count; ++i) out += literal;
    } else {
      out += literal;
    }
    skip_spaces(expression, at);
    if (at >= expression.size()) return true;
    if (expression[at] != '+') {
      return fail(error, "unexpected text after string: " + std::string(expression.substr(at)));
    }
    ++at;
  }
}

std::string render_pair_part(std::string_view text, bool allow_equals) {
  bool bare = true;
  for (const char c : text) bare = bare && is_bare_char(c, allow_equals);
  // An empty value stays bare ("QUERY_STRING="); an empty name must be visible.
  if (text.empty()) bare = allow_equals;
  for (std::size_t at = 0; bare && at < text.size(); at += run_length(text, at)) {
    bare = run_length(text, at) < min_run;  // long runs read better as "c"*N
  }
  return bare ? std::string(text) : render_bytes(text);
}

std::optional<std::string> render_pairs(protocol::bytes_view encoded) {
  if (protocol::validate_pairs(encoded, ~std::size_t{0}) != protocol::errc{}) return std::nullopt;
  std::string out = "{";
  bool first = true;
  for (const protocol::param& p : protocol::param_list(encoded)) {
    if (!first) out += ", ";
    first = false;
    out += render_pair_part(p.name, false);
    out += '=';
    out += render_pair_part(p.value, true);
  }
  out += '}';
  return out;
}

}  // namespace fcgi::test
