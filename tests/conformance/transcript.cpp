#include "transcript.hpp"

#include <algorithm>
#include <charconv>
#include <fstream>
#include <limits>
#include <map>
#include <sstream>

#include <fcgi/test/output_decoder.hpp>
#include <fcgi/test/text.hpp>

namespace fcgi::conformance {
namespace {

using protocol::record_type;
using test::bytes;
using test::operator+=;

[[noreturn]] void fail(int line, const std::string& message) {
  throw transcript_error("line " + std::to_string(line) + ": " + message);
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

std::uint64_t number(int line, std::string_view text, std::uint64_t max = ~std::uint64_t{0}) {
  std::uint64_t value = 0;
  int base = 10;
  if (starts_with(text, "0x")) {
    text.remove_prefix(2);
    base = 16;
  }
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value, base);
  if (ec != std::errc{} || end != text.data() + text.size() || text.empty()) {
    fail(line, "not a number: '" + std::string(text) + "'");
  }
  if (value > max) fail(line, "number too large: " + std::string(text));
  return value;
}

template <class Integer>
Integer number_as(int line, std::string_view text) {
  return static_cast<Integer>(number(line, text, std::numeric_limits<Integer>::max()));
}

std::string expression(int line, std::string_view text) {
  std::string out;
  std::string error;
  if (!test::parse_bytes(text, out, &error)) fail(line, error);
  return out;
}

bytes hex_bytes(int line, std::string_view text) {
  bytes out;
  std::string digits;
  for (const char c : text) {
    if (c == ' ' || c == '_') continue;
    digits += c;
  }
  if (digits.size() % 2 != 0) fail(line, "odd number of hex digits");
  for (std::size_t i = 0; i < digits.size(); i += 2) {
    out.push_back(static_cast<std::byte>(number(line, "0x" + digits.substr(i, 2), 0xff)));
  }
  return out;
}

/// Splits on blanks outside double quotes; a standalone "+" joins its neighbours, so string
/// expressions may be written "a" + "b"*3 with spaces.
std::vector<std::string> tokenize(int line, std::string_view text) {
  std::vector<std::string> raw;
  std::string current;
  bool quoted = false;
  bool has_token = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      current += c;
      if (c == '\\' && i + 1 < text.size()) {
        current += text[++i];
      } else if (c == '"') {
        quoted = false;
      }
      continue;
    }
    if (c == ' ' || c == '\t') {
      if (has_token) raw.push_back(std::move(current));
      current.clear();
      has_token = false;
      continue;
    }
    if (c == '"') quoted = true;
    current += c;
    has_token = true;
  }
  if (quoted) fail(line, "unterminated string");
  if (has_token) raw.push_back(std::move(current));
  std::vector<std::string> out;
  for (std::size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] == "+") {
      if (out.empty() || i + 1 >= raw.size()) fail(line, "'+' needs a string on each side");
      out.back() += " + " + raw[++i];
    } else {
      out.push_back(raw[i]);
    }
  }
  return out;
}

/// Position of the first '=' outside quotes, or npos.
std::size_t top_level_equals(std::string_view token) {
  bool quoted = false;
  for (std::size_t i = 0; i < token.size(); ++i) {
    if (quoted && token[i] == '\\') {
      ++i;
    } else if (token[i] == '"') {
      quoted = !quoted;
    } else if (!quoted && token[i] == '=') {
      return i;
    }
  }
  return std::string_view::npos;
}

/// A name or value: a string expression if quoted, else the bare text.
std::string pair_part(int line, std::string_view text) {
  if (!text.empty() && text.front() == '"') return expression(line, text);
  return std::string(text);
}

/// NAME=VALUE (either side quoted or bare), NAME alone (empty value), and NAME[a..b]=VALUE
/// for the pairs NAMEa=VALUE ... NAMEb=VALUE.
std::vector<std::pair<std::string, std::string>> pair_token(int line, std::string_view token) {
  const std::size_t eq = top_level_equals(token);
  const std::string_view name_text = token.substr(0, eq);
  const std::string value =
      eq == std::string_view::npos ? std::string() : pair_part(line, token.substr(eq + 1));
  std::vector<std::pair<std::string, std::string>> out;
  const std::size_t open = name_text.find('[');
  const std::size_t dots = name_text.find("..", open == std::string_view::npos ? 0 : open);
  const std::size_t close = name_text.find(']', dots == std::string_view::npos ? 0 : dots);
  if (name_text.front() != '"' && open != std::string_view::npos &&
      dots != std::string_view::npos && close != std::string_view::npos) {
    const std::string prefix(name_text.substr(0, open));
    const std::string suffix(name_text.substr(close + 1));
    const std::uint64_t first = number(line, name_text.substr(open + 1, dots - open - 1));
    const std::uint64_t last = number(line, name_text.substr(dots + 2, close - dots - 2));
    if (last < first) fail(line, "empty name range");
    for (std::uint64_t i = first; i <= last; ++i) {
      out.emplace_back(prefix + std::to_string(i) + suffix, value);
    }
    return out;
  }
  out.emplace_back(pair_part(line, name_text), value);
  return out;
}

/// Bytes of a pair-list token: hex:..., a standalone quoted expression (raw bytes),
/// long:NAME=VALUE (four-byte lengths), or pairs.
bytes pair_list_token(int line, std::string_view token) {
  if (starts_with(token, "hex:")) return hex_bytes(line, token.substr(4));
  if (token.front() == '"' && top_level_equals(token) == std::string_view::npos) {
    return test::to_bytes(expression(line, token));
  }
  const bool force_long = starts_with(token, "long:");
  if (force_long) token.remove_prefix(5);
  bytes out;
  for (const auto& [name, value] : pair_token(line, token))
    out += test::pair(name, value, force_long);
  return out;
}

std::optional<std::uint8_t> type_from_name(std::string_view name) {
  static const std::map<std::string_view, record_type> names{
      {"BEGIN", record_type::begin_request},
      {"BEGIN_REQUEST", record_type::begin_request},
      {"ABORT", record_type::abort_request},
      {"ABORT_REQUEST", record_type::abort_request},
      {"END_REQUEST", record_type::end_request},
      {"PARAMS", record_type::params},
      {"STDIN", record_type::stdin_stream},
      {"STDOUT", record_type::stdout_stream},
      {"STDERR", record_type::stderr_stream},
      {"DATA", record_type::data},
      {"GET_VALUES", record_type::get_values},
      {"GET_VALUES_RESULT", record_type::get_values_result},
      {"UNKNOWN_TYPE", record_type::unknown_type}};
  const auto it = names.find(name);
  if (it == names.end()) return std::nullopt;
  return static_cast<std::uint8_t>(it->second);
}

std::uint8_t type_value(int line, std::string_view text) {
  if (const auto t = type_from_name(text)) return *t;
  return number_as<std::uint8_t>(line, text);
}

std::uint16_t role_value(int line, std::string_view text) {
  if (text == "RESPONDER") return 1;
  if (text == "AUTHORIZER") return 2;
  if (text == "FILTER") return 3;
  return number_as<std::uint16_t>(line, text);
}

std::uint8_t status_value(int line, std::string_view text) {
  for (unsigned s = 0; s < 4; ++s) {
    if (test::status_name(static_cast<std::uint8_t>(s)) == text)
      return static_cast<std::uint8_t>(s);
  }
  return number_as<std::uint8_t>(line, text);
}

/// Header options shared by typed lines and RECORD lines.
struct framing {
  std::uint8_t padding = 0;
  bytes padding_pattern{std::byte{0}};
  std::uint8_t version = protocol::version_1;
  std::uint8_t reserved = 0;
  std::optional<std::uint16_t> declared_length;
};

bool framing_option(int line, std::string_view token, framing& f) {
  if (starts_with(token, "padding=")) {
    f.padding = number_as<std::uint8_t>(line, token.substr(8));
  } else if (starts_with(token, "padhex=")) {
    f.padding_pattern = hex_bytes(line, token.substr(7));
    if (f.padding_pattern.empty()) fail(line, "padhex= needs bytes");
  } else if (starts_with(token, "version=")) {
    f.version = number_as<std::uint8_t>(line, token.substr(8));
  } else if (starts_with(token, "reserved=")) {
    f.reserved = number_as<std::uint8_t>(line, token.substr(9));
  } else if (starts_with(token, "length=")) {
    f.declared_length = number_as<std::uint16_t>(line, token.substr(7));
  } else {
    return false;
  }
  return true;
}

void append_record(step& s, std::uint8_t type, std::uint16_t id, const bytes& content,
                   const framing& f) {
  s.boundaries.push_back(s.input.size());
  const auto length = f.declared_length.value_or(static_cast<std::uint16_t>(content.size()));
  s.input += test::header(type, id, length, f.padding, f.version, f.reserved);
  s.input += content;
  for (std::size_t i = 0; i < f.padding; ++i) {
    s.input.push_back(f.padding_pattern[i % f.padding_pattern.size()]);
  }
}

/// Stream-like content longer than one record is sent as records of 65535 bytes.
void append_records(int line, step& s, std::uint8_t type, std::uint16_t id, const bytes& content,
                    const framing& f) {
  if (content.size() <= protocol::max_content_length) {
    append_record(s, type, id, content, f);
    return;
  }
  if (f.declared_length) fail(line, "length= on content that spans several records");
  for (std::size_t at = 0; at < content.size(); at += protocol::max_content_length) {
    const std::size_t n = std::min(protocol::max_content_length, content.size() - at);
    const bytes piece(content.begin() + static_cast<std::ptrdiff_t>(at),
                      content.begin() + static_cast<std::ptrdiff_t>(at + n));
    append_record(s, type, id, piece, f);
  }
}

void parse_raw(int line, const std::vector<std::string>& tokens, step& s) {
  s.boundaries.push_back(s.input.size());
  for (std::size_t i = 1; i < tokens.size(); ++i) s.input += hex_bytes(line, tokens[i]);
}

void parse_record_line(int line, const std::vector<std::string>& tokens, step& s) {
  framing f;
  std::optional<std::uint8_t> type;
  std::uint16_t id = 0;
  bytes content;
  for (std::size_t i = 1; i < tokens.size(); ++i) {
    const std::string_view t = tokens[i];
    if (framing_option(line, t, f)) continue;
    if (starts_with(t, "type=")) {
      type = type_value(line, t.substr(5));
    } else if (starts_with(t, "id=")) {
      id = number_as<std::uint16_t>(line, t.substr(3));
    } else if (starts_with(t, "content=")) {
      content = test::to_bytes(expression(line, t.substr(8)));
    } else if (starts_with(t, "hex=")) {
      content = hex_bytes(line, t.substr(4));
    } else {
      fail(line, "unknown RECORD field: " + std::string(t));
    }
  }
  if (!type) fail(line, "RECORD needs type=");
  if (content.size() > protocol::max_content_length) fail(line, "RECORD content above 65535");
  append_record(s, *type, id, content, f);
}

bytes begin_body(int line, const std::vector<std::string>& args) {
  if (args.empty() || args.size() > 2) fail(line, "BEGIN <id> <role> [KEEP_CONN|flags=N]");
  std::uint8_t flags = 0;
  if (args.size() == 2) {
    if (args[1] == "KEEP_CONN") {
      flags = protocol::keep_conn_flag;
    } else if (starts_with(args[1], "flags=")) {
      flags = number_as<std::uint8_t>(line, std::string_view(args[1]).substr(6));
    } else {
      fail(line, "BEGIN flag must be KEEP_CONN or flags=N");
    }
  }
  const bytes whole = test::begin_request(1, role_value(line, args[0]), flags);
  return bytes(whole.begin() + protocol::header_size, whole.end());
}

bytes fixed_body(const bytes& whole_record) {
  return bytes(whole_record.begin() + protocol::header_size, whole_record.end());
}

void parse_typed_line(int line, const std::vector<std::string>& tokens, step& s) {
  const std::uint8_t type = *type_from_name(tokens[0]);
  if (tokens.size() < 2) fail(line, "a record line needs a request id");
  const auto id = number_as<std::uint16_t>(line, tokens[1]);
  framing f;
  std::vector<std::string> args;
  for (std::size_t i = 2; i < tokens.size(); ++i) {
    if (!framing_option(line, tokens[i], f)) args.push_back(tokens[i]);
  }
  bytes content;
  switch (static_cast<record_type>(type)) {
    case record_type::begin_request: content = begin_body(line, args); break;
    case record_type::abort_request:
      if (!args.empty()) fail(line, "ABORT takes only an id");
      break;
    case record_type::end_request:
      if (args.size() != 2) fail(line, "END_REQUEST <id> <appStatus> <protocolStatus>");
      content = fixed_body(test::end_request(id, number_as<std::uint32_t>(line, args[0]),
                                             status_value(line, args[1])));
      break;
    case record_type::unknown_type:
      if (args.size() != 1) fail(line, "UNKNOWN_TYPE <id> <type>");
      content = fixed_body(test::unknown_type(type_value(line, args[0])));
      break;
    case record_type::params:
    case record_type::get_values:
    case record_type::get_values_result:
      for (const std::string& a : args) content += pair_list_token(line, a);
      break;
    default:  // streams
      if (args.size() > 1) fail(line, "stream content must be one string expression");
      if (!args.empty()) content = test::to_bytes(expression(line, args[0]));
      break;
  }
  append_records(line, s, type, id, content, f);
}

void parse_input(int line, std::string_view text, step& s) {
  const std::vector<std::string> tokens = tokenize(line, text);
  if (tokens.empty()) fail(line, "empty input line");
  if (tokens[0] == "RAW") return parse_raw(line, tokens, s);
  if (tokens[0] == "RECORD") return parse_record_line(line, tokens, s);
  if (!type_from_name(tokens[0])) fail(line, "unknown record type: " + tokens[0]);
  parse_typed_line(line, tokens, s);
}

key_ref key_value(int line, std::string_view text) {
  key_ref k;
  const std::size_t hash = text.find('#');
  k.id = number_as<std::uint16_t>(line, text.substr(0, hash));
  if (hash != std::string_view::npos) k.ordinal = number(line, text.substr(hash + 1));
  return k;
}

action parse_action(int line, std::string_view text, side which) {
  action a;
  a.line = line;
  a.text = std::string(text);
  std::vector<std::string> tokens = tokenize(line, text);
  const auto arrow = std::find(tokens.begin(), tokens.end(), "=>");
  if (arrow != tokens.end()) {
    if (arrow + 2 != tokens.end()) fail(line, "'=>' must be followed by exactly one result");
    a.expect = *(arrow + 1);
    tokens.erase(arrow, tokens.end());
  }
  if (tokens.empty()) fail(line, "empty action");
  a.verb = tokens[0];
  const std::vector<std::string> args(tokens.begin() + 1, tokens.end());
  const auto need = [&](std::size_t n, const char* usage) {
    if (args.size() != n) fail(line, std::string("usage: ! ") + usage);
  };
  const bool app = which == side::app;
  if (app && (a.verb == "write_stdout" || a.verb == "write_stderr" ||
              a.verb == "write_stdout_reference")) {
    need(2, "write_stdout <id> <string>");
    a.key = key_value(line, args[0]);
    a.payload = expression(line, args[1]);
  } else if (app && a.verb == "end_request") {
    need(2, "end_request <id> <appStatus>");
    a.key = key_value(line, args[0]);
    a.number = number_as<std::uint32_t>(line, args[1]);
  } else if (app && a.verb == "reject_request") {
    need(2, "reject_request <id> <protocolStatus>");
    a.key = key_value(line, args[0]);
    a.status = status_value(line, args[1]);
  } else if (!app && a.verb == "begin") {
    if (args.empty() || args.size() > 2 || (args.size() == 2 && args[1] != "KEEP_CONN")) {
      fail(line, "usage: ! begin <role> [KEEP_CONN]");
    }
    a.role = role_value(line, args[0]);
    a.keep_conn = args.size() == 2;
  } else if (!app && a.verb == "params") {
    if (args.empty()) fail(line, "usage: ! params <id> NAME=VALUE...");
    a.key = key_value(line, args[0]);
    for (std::size_t i = 1; i < args.size(); ++i) {
      for (auto& p : pair_token(line, args[i])) a.pairs.push_back(std::move(p));
    }
  } else if (!app && (a.verb == "stdin" || a.verb == "stdin_reference" || a.verb == "data")) {
    need(2, "stdin <id> <string>");
    a.key = key_value(line, args[0]);
    a.payload = expression(line, args[1]);
  } else if (!app && (a.verb == "end_params" || a.verb == "end_stdin" || a.verb == "end_data" ||
                      a.verb == "abort")) {
    need(1, "end_stdin <id>");
    a.key = key_value(line, args[0]);
  } else if (!app && a.verb == "get_values") {
    for (const std::string& n : args) a.names.push_back(pair_part(line, n));
  } else {
    fail(line, "unknown action for this side: " + a.verb);
  }
  return a;
}

check parse_check(int line, std::string_view text) {
  check c;
  c.line = line;
  c.text = std::string(text);
  for (const std::string& token : tokenize(line, text)) {
    const std::size_t eq = token.find('=');
    if (eq == std::string::npos) fail(line, "a check is name=value");
    c.items.emplace_back(token.substr(0, eq), number(line, std::string_view(token).substr(eq + 1)));
  }
  if (c.items.empty()) fail(line, "empty check");
  return c;
}

std::uint8_t roles_value(int line, std::string_view text) {
  std::uint8_t bits = 0;
  std::size_t at = 0;
  while (at <= text.size()) {
    const std::size_t comma = std::min(text.find(',', at), text.size());
    const std::uint16_t r = role_value(line, text.substr(at, comma - at));
    if (r == 0 || r > 7) fail(line, "accepted_roles takes roles 1..7");
    bits = static_cast<std::uint8_t>(bits | (1U << r));
    at = comma + 1;
  }
  return bits;
}

void apply_setting(int line, transcript& t, const std::string& key, const std::string& value) {
  protocol::app_settings& a = t.app;
  const auto flag = [&] { return number(line, value, 1) != 0; };
  if (key == "side") {
    if (value != "app" && value != "client") fail(line, "side is app or client");
    t.which = value == "app" ? side::app : side::client;
  } else if (key == "multiplex") {
    a.multiplex = flag();
  } else if (key == "max_requests") {
    a.max_requests = number_as<std::uint32_t>(line, value);
    t.client.max_requests = a.max_requests;
  } else if (key == "advertised_max_conns") {
    a.advertised_max_conns = number_as<std::uint32_t>(line, value);
  } else if (key == "advertised_max_reqs") {
    a.advertised_max_reqs = number_as<std::uint32_t>(line, value);
  } else if (key == "accepted_roles") {
    a.accepted_roles = roles_value(line, value);
  } else if (key == "max_bytes") {
    a.params.max_bytes = number(line, value);
  } else if (key == "max_count") {
    a.params.max_count = number_as<std::uint32_t>(line, value);
  } else if (key == "allow_duplicate_names") {
    a.params.allow_duplicate_names = flag();
  } else if (key == "accept_minus_one_content_length") {
    a.params.accept_minus_one_content_length = flag();
  } else if (key == "max_connection_params_bytes") {
    a.max_connection_params_bytes = number(line, value);
  } else if (key == "error_app_status") {
    a.error_app_status = number_as<std::uint32_t>(line, value);
  } else if (key == "reference_threshold") {
    a.reference_threshold = number(line, value);
    t.client.reference_threshold = a.reference_threshold;
  } else {
    fail(line, "unknown setting: " + key);
  }
}

/// Expands {a..b} (digits) on a line into one line per value; several ranges on one line
/// advance together and must have the same length.
std::vector<std::string> expand_ranges(int line, const std::string& text) {
  struct range {
    std::size_t begin, end;
    std::uint64_t first, count;
  };
  std::vector<range> ranges;
  for (std::size_t at = text.find('{'); at != std::string::npos; at = text.find('{', at + 1)) {
    const std::size_t dots = text.find("..", at);
    const std::size_t close = text.find('}', at);
    if (dots == std::string::npos || close == std::string::npos || dots > close) continue;
    const std::string a = text.substr(at + 1, dots - at - 1);
    const std::string b = text.substr(dots + 2, close - dots - 2);
    const auto digits = [](const std::string& s) {
      return !s.empty() &&
             std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
    };
    if (!digits(a) || !digits(b)) continue;
    const std::uint64_t first = number(line, a);
    const std::uint64_t last = number(line, b);
    if (last < first) fail(line, "empty range {" + a + ".." + b + "}");
    ranges.push_back({at, close + 1, first, last - first + 1});
  }
  if (ranges.empty()) return {text};
  for (const range& r : ranges) {
    if (r.count != ranges.front().count) fail(line, "ranges on one line differ in length");
  }
  std::vector<std::string> out;
  for (std::uint64_t i = 0; i < ranges.front().count; ++i) {
    std::string expanded;
    std::size_t at = 0;
    for (const range& r : ranges) {
      expanded += text.substr(at, r.begin - at);
      expanded += std::to_string(r.first + i);
      at = r.end;
    }
    expanded += text.substr(at);
    out.push_back(std::move(expanded));
  }
  return out;
}

/// The lines that matter, numbered, with {a..b} ranges expanded; the first comment is the
/// intent.
std::vector<std::pair<int, std::string>> read_lines(const std::string& text, std::string& intent) {
  std::vector<std::pair<int, std::string>> lines;
  std::istringstream in(text);
  std::string raw;
  int line = 0;
  while (std::getline(in, raw)) {
    ++line;
    const std::string_view view = trim(raw);
    if (view.empty()) continue;
    if (view.front() == '#') {
      if (intent.empty() && lines.empty()) intent = std::string(trim(view.substr(1)));
      continue;
    }
    for (std::string& l : expand_ranges(line, std::string(view)))
      lines.emplace_back(line, std::move(l));
  }
  return lines;
}

/// Settings apply to the whole transcript wherever they are written.
void apply_settings(const std::vector<std::pair<int, std::string>>& lines, transcript& t) {
  for (const auto& [line, l] : lines) {
    if (!starts_with(l, "setting ")) continue;
    const std::string body(trim(std::string_view(l).substr(8)));
    const std::size_t eq = body.find('=');
    if (eq == std::string::npos) fail(line, "setting <name>=<value>");
    apply_setting(line, t, body.substr(0, eq), body.substr(eq + 1));
  }
}

/// Cuts the lines into steps at each "!" and "?" line.
void build_steps(const std::vector<std::pair<int, std::string>>& lines, transcript& t) {
  step current;
  for (const auto& [line, l] : lines) {
    current.line = line;
    if (starts_with(l, "setting ")) continue;
    if (l.size() < 2 || l[1] != ' ')
      fail(line, "a line starts with '> ', '= ', '< ', '! ' or '? '");
    const std::string_view body = trim(std::string_view(l).substr(2));
    switch (l[0]) {
      case '>': parse_input(line, body, current); continue;
      case '=': current.events.emplace_back(body); continue;
      case '<': current.output.emplace_back(body); continue;
      case '!': current.act = parse_action(line, body, t.which); break;
      case '?': current.chk = parse_check(line, body); break;
      default: fail(line, "a line starts with '> ', '= ', '< ', '! ' or '? '");
    }
    t.steps.push_back(std::move(current));
    current = step{};
  }
  t.steps.push_back(std::move(current));
}

}  // namespace

std::size_t transcript::input_size() const noexcept {
  std::size_t n = 0;
  for (const step& s : steps) n += s.input.size();
  return n;
}

transcript parse_transcript(const std::string& text, const std::string& name) {
  transcript t;
  t.name = name;
  try {
    const std::vector<std::pair<int, std::string>> lines = read_lines(text, t.intent);
    if (t.intent.empty()) throw transcript_error("the first line must be '# <intent>'");
    apply_settings(lines, t);
    build_steps(lines, t);
  } catch (const transcript_error& e) {
    throw transcript_error(name + ": " + e.what());
  }
  return t;
}

transcript load_transcript(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw transcript_error("cannot open " + path);
  std::ostringstream text;
  text << in.rdbuf();
  return parse_transcript(text.str(), path);
}

}  // namespace fcgi::conformance
