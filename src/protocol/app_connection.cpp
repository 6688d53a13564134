#include <fcgi/protocol/app_connection.hpp>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>
#include <limits>

namespace fcgi::protocol {
namespace {

constexpr std::size_t never_reference = std::numeric_limits<std::size_t>::max();
// A slot's params buffer above this capacity is given back when the request ends.
constexpr std::size_t retained_params_capacity = 16 * 1024;

constexpr std::string_view max_conns_name = "FCGI_MAX_CONNS";
constexpr std::string_view max_reqs_name = "FCGI_MAX_REQS";
constexpr std::string_view mpxs_conns_name = "FCGI_MPXS_CONNS";

app_event event_for(app_event_kind kind, request_key request) noexcept {
  app_event ev;
  ev.kind = kind;
  ev.request = request;
  return ev;
}

}  // namespace

std::string_view to_string(app_event_kind k) noexcept {
  switch (k) {
    case app_event_kind::need_more: return "need_more";
    case app_event_kind::params_ready: return "params_ready";
    case app_event_kind::stdin_chunk: return "stdin_chunk";
    case app_event_kind::stdin_end: return "stdin_end";
    case app_event_kind::data_chunk: return "data_chunk";
    case app_event_kind::data_end: return "data_end";
    case app_event_kind::request_aborted: return "request_aborted";
    case app_event_kind::request_failed: return "request_failed";
    case app_event_kind::request_rejected: return "request_rejected";
    case app_event_kind::connection_error: return "connection_error";
  }
  return "unknown";
}

app_connection::app_connection(const app_settings& settings) : settings_(settings) {}

app_event app_connection::next_event(bytes_view& input) {
  if (failed_) return connection_error_event();
  // Each step's event is returned where it is made (no default event assigned over per
  // step: app_event is large and this loop runs a few times per record).
  for (;;) {
    bytes_view chunk;
    switch (reader_.next(input, chunk)) {
      case record_reader::step::need_more: return {};
      case record_reader::step::header: {
        header_ = reader_.header();
        ++stats_.records;
        sink_ = content_sink::discard;
        app_event ev = on_header();
        if (ev.kind != app_event_kind::need_more) return ev;
        break;
      }
      case record_reader::step::content: {
        app_event ev = on_content(chunk);
        if (ev.kind != app_event_kind::need_more) return ev;
        break;
      }
      case record_reader::step::content_end: {
        app_event ev = on_content_end();
        if (ev.kind != app_event_kind::need_more) return ev;
        break;
      }
    }
  }
}

app_event app_connection::on_content(bytes_view chunk) {
  switch (sink_) {
    case content_sink::discard: return {};
    case content_sink::begin_body:
      std::copy_n(chunk.begin(), chunk.size(),
                  body_bytes_.begin() + static_cast<std::ptrdiff_t>(body_fill_));
      body_fill_ += chunk.size();
      return {};
    case content_sink::get_values:
      if (management_.empty() && chunk.size() == header_.content_length) {
        sink_ = content_sink::discard;
        return answer_get_values(chunk);  // the whole record is in this read: no copy
      }
      management_.insert(management_.end(), chunk.begin(), chunk.end());
      return {};
    case content_sink::params:
      if (request_slot* slot = find_active(current_)) return on_params_bytes(*slot, chunk);
      return {};
    case content_sink::stdin_stream:
    case content_sink::data_stream: {
      if (find_active(current_) == nullptr) return {};
      app_event ev = event_for(sink_ == content_sink::stdin_stream ? app_event_kind::stdin_chunk
                                                                   : app_event_kind::data_chunk,
                               current_);
      ev.bytes = chunk;
      return ev;
    }
  }
  return {};
}

app_event app_connection::on_header() {
  if (header_.version != version_1) return fail_connection(errc::unsupported_version);
  const std::uint16_t id = header_.request_id;
  const auto type = static_cast<record_type>(header_.type);
  switch (type) {
    case record_type::begin_request:
      if (id == null_request_id) return fail_connection(errc::begin_request_on_null_id);
      if (header_.content_length != fixed_body_size) {
        return fail_connection(errc::begin_request_length);
      }
      if (find_active(id) != nullptr) return fail_connection(errc::request_id_already_active);
      sink_ = content_sink::begin_body;
      body_fill_ = 0;
      return {};
    case record_type::abort_request:
    case record_type::params:
    case record_type::stdin_stream:
    case record_type::data:
    case record_type::stdout_stream:
    case record_type::stderr_stream:
    case record_type::end_request: {
      if (id == null_request_id) return fail_connection(errc::application_record_on_null_id);
      request_slot* slot = find_active(id);
      if (slot == nullptr) {  // §3.3: records for inactive ids are ignored
        ++stats_.ignored_records;
        return {};
      }
      if (type == record_type::abort_request) return on_abort_request(*slot);
      if (type == record_type::params) return on_params_header(*slot);
      if (type == record_type::stdin_stream) return on_stdin_header(*slot);
      if (type == record_type::data) return on_data_header(*slot);
      return fail_connection(errc::record_type_wrong_direction);
    }
    case record_type::get_values:
      if (id != null_request_id) return fail_connection(errc::management_record_on_request_id);
      ++stats_.get_values;
      sink_ = content_sink::get_values;
      management_.clear();
      return {};
    case record_type::get_values_result:
    case record_type::unknown_type:
      if (id != null_request_id) return fail_connection(errc::management_record_on_request_id);
      break;  // a management type an application does not take: §4.2
  }
  if (id == null_request_id) {
    output_.append(make_unknown_type(header_.type));  // §4.2
  } else {
    ++stats_.unknown_type_records;
  }
  return {};
}

app_event app_connection::on_content_end() {
  switch (sink_) {
    case content_sink::begin_body: return on_begin_request();
    case content_sink::get_values: {
      app_event ev = answer_get_values(management_);
      management_.clear();
      return ev;
    }
    default: return {};
  }
}

app_event app_connection::on_begin_request() {
  begin_request_body body;
  decode_begin_request_body(body_bytes_, body);
  const std::uint16_t id = header_.request_id;
  const bool known_role =
      body.role >= 1 && body.role <= 3 && (settings_.accepted_roles & (1U << body.role)) != 0;
  if (!known_role) return reject(id, protocol_status::unknown_role, body.keep_conn());
  if (active_count_ != 0 && !settings_.multiplex)
    return reject(id, protocol_status::cant_mpx_conn, body.keep_conn());
  if (active_count_ >= settings_.max_requests)
    return reject(id, protocol_status::overloaded, body.keep_conn());
  request_slot& slot = allocate_slot();
  slot.active = true;
  slot.request_role = static_cast<role>(body.role);
  slot.keep_conn = body.keep_conn();
  slot.key = {id, next_generation_++};
  ++active_count_;
  ++stats_.requests_started;
  return {};
}

app_event app_connection::on_abort_request(request_slot& slot) {
  if (!slot.started) {  // the runtime never saw it: answer for it (§5.4)
    finish(slot, settings_.error_app_status, protocol_status::request_complete);
    return {};
  }
  if (slot.aborted) {
    ++stats_.ignored_records;
    return {};
  }
  slot.aborted = true;
  return event_for(app_event_kind::request_aborted, slot.key);
}

app_event app_connection::on_params_header(request_slot& slot) {
  if (slot.phase != input_phase::params) return fail_request(slot, errc::params_after_params_end);
  if (header_.content_length == 0) {
    if (const errc e = slot.scanner.finish(slot.params); e != errc{}) return fail_request(slot, e);
    slot.phase = input_phase::stdin_stream;
    slot.started = true;
    slot.content_length = slot.scanner.content_length();
    app_event ev = event_for(app_event_kind::params_ready, slot.key);
    ev.request_role = slot.request_role;
    ev.keep_conn = slot.keep_conn;
    ev.params = param_list(slot.params);
    return ev;
  }
  if (slot.params.size() + header_.content_length > settings_.params.max_bytes ||
      params_bytes_ + header_.content_length > settings_.max_connection_params_bytes) {
    return fail_request(slot, errc::params_too_large);
  }
  sink_ = content_sink::params;
  current_ = slot.key;
  return {};
}

app_event app_connection::on_params_bytes(request_slot& slot, bytes_view bytes) {
  // Grown by hand: vector::insert of a range is a generic, much longer path for a plain copy.
  const std::size_t held = slot.params.size();
  if (slot.params.capacity() < held + bytes.size()) {
    slot.params.reserve(std::max(held + bytes.size(), 2 * slot.params.capacity()));
  }
  slot.params.resize(held + bytes.size());
  if (!bytes.empty()) std::memcpy(slot.params.data() + held, bytes.data(), bytes.size());
  params_bytes_ += bytes.size();
  if (const errc e = slot.scanner.scan(slot.params, settings_.params); e != errc{}) {
    return fail_request(slot, e);
  }
  return {};
}

app_event app_connection::on_stdin_header(request_slot& slot) {
  if (slot.phase == input_phase::params) return fail_request(slot, errc::stdin_before_params_end);
  if (slot.phase != input_phase::stdin_stream || slot.aborted) {
    ++stats_.ignored_records;  // STDIN after its end, or for an aborted request
    return {};
  }
  const bool length_known = slot.content_length != params_scanner::no_content_length;
  if (header_.content_length == 0) {
    if (length_known && slot.stdin_received < slot.content_length) {
      return fail_request(slot, errc::stdin_shorter_than_content_length);
    }
    slot.phase = slot.request_role == role::filter ? input_phase::data_stream : input_phase::done;
    return event_for(app_event_kind::stdin_end, slot.key);
  }
  if (length_known && slot.stdin_received + header_.content_length > slot.content_length) {
    return fail_request(slot, errc::stdin_longer_than_content_length);
  }
  slot.stdin_received += header_.content_length;
  sink_ = content_sink::stdin_stream;
  current_ = slot.key;
  return {};
}

app_event app_connection::on_data_header(request_slot& slot) {
  if (slot.request_role != role::filter) return fail_request(slot, errc::data_for_non_filter);
  if (slot.phase == input_phase::params || slot.phase == input_phase::stdin_stream) {
    return fail_request(slot, errc::data_before_stdin_end);
  }
  if (slot.phase == input_phase::done || slot.aborted) {
    ++stats_.ignored_records;
    return {};
  }
  if (header_.content_length == 0) {
    slot.phase = input_phase::done;
    return event_for(app_event_kind::data_end, slot.key);
  }
  sink_ = content_sink::data_stream;
  current_ = slot.key;
  return {};
}

app_event app_connection::answer_get_values(bytes_view content) {
  if (validate_pairs(content, std::numeric_limits<std::size_t>::max()) != errc{}) {
    return fail_connection(errc::truncated_pair);
  }
  // At most the three known names, each once (§4.1): the answer is bounded whatever is asked.
  std::array<std::byte, 96> answer{};
  std::size_t size = 0;
  std::array<bool, 3> answered{};
  for (const param& asked : param_list(content)) {
    std::array<char, 12> digits{};
    const auto decimal = [&digits](std::uint32_t number) {
      const auto end = std::to_chars(digits.data(), digits.data() + digits.size(), number).ptr;
      return std::string_view(digits.data(), static_cast<std::size_t>(end - digits.data()));
    };
    std::string_view value;
    std::size_t which = answered.size();
    if (asked.name == max_conns_name) {
      which = 0;
      value = decimal(settings_.advertised_max_conns);
    } else if (asked.name == max_reqs_name) {
      which = 1;
      value = decimal(settings_.advertised_max_reqs);
    } else if (asked.name == mpxs_conns_name) {
      which = 2;
      value = settings_.multiplex ? "1" : "0";
    }
    if (which == answered.size() || answered[which]) continue;
    answered[which] = true;
    size += encode_pair(asked.name, value, std::span(answer).subspan(size));
  }
  std::array<std::byte, 96 + header_size + 8> record{};
  const std::size_t n = encode_record(record_type::get_values_result, null_request_id,
                                      std::span(answer).first(size), record);
  output_.append(std::span(record).first(n));
  return {};
}

app_connection::request_slot* app_connection::find_active(std::uint16_t id) noexcept {
  for (request_slot& slot : slots_) {
    if (slot.active && slot.key.id == id) return &slot;
  }
  return nullptr;
}

app_connection::request_slot* app_connection::find_active(request_key key) noexcept {
  request_slot* slot = find_active(key.id);
  return slot != nullptr && slot->key == key ? slot : nullptr;
}

app_connection::request_slot& app_connection::allocate_slot() {
  for (request_slot& slot : slots_) {
    if (!slot.active) return slot;
  }
  return slots_.emplace_back();
}

void app_connection::release(request_slot& slot) noexcept {
  params_bytes_ -= slot.params.size();
  if (slot.params.capacity() > retained_params_capacity) {
    std::vector<std::byte>().swap(slot.params);
  } else {
    slot.params.clear();
  }
  slot.scanner.reset();
  slot.active = false;
  slot.started = false;
  slot.aborted = false;
  slot.stderr_written = false;
  slot.phase = input_phase::params;
  slot.content_length = params_scanner::no_content_length;
  slot.stdin_received = 0;
  --active_count_;
}

void app_connection::release_idle_memory() noexcept {
  output_.release_memory();
  for (request_slot& slot : slots_) {
    if (!slot.active) std::vector<std::byte>().swap(slot.params);
  }
  if (sink_ != content_sink::get_values) std::vector<std::byte>().swap(management_);
}

void app_connection::finish(request_slot& slot, std::uint32_t app_status, protocol_status status) {
  const std::uint16_t id = slot.key.id;
  // The closing records in one append: the empty STDOUT (§6.1: the stream is always sent),
  // the empty STDERR if that stream was used, END_REQUEST.
  std::array<std::byte, 2 * header_size + sizeof(fixed_record)> closing{};
  std::size_t size = 0;
  const auto add = [&closing, &size](bytes_view record) {
    std::copy(record.begin(), record.end(), closing.begin() + static_cast<std::ptrdiff_t>(size));
    size += record.size();
  };
  add(make_empty_record(record_type::stdout_stream, id));
  if (slot.stderr_written) add(make_empty_record(record_type::stderr_stream, id));
  add(make_end_request(id, app_status, status));
  output_.append(std::span(closing).first(size));
  if (!slot.keep_conn) close_pending_ = true;  // §5.1: we close after this response
  release(slot);
}

app_event app_connection::reject(std::uint16_t id, protocol_status status, bool keep_conn) {
  output_.append(make_end_request(id, 0, status));
  // §5.1/§5.5: a rejection is this request's response; without KEEP_CONN we close after it.
  if (!keep_conn) close_pending_ = true;
  ++stats_.requests_rejected;
  app_event ev = event_for(app_event_kind::request_rejected, {id, 0});
  ev.rejected_status = status;
  return ev;
}

errc app_connection::write_stream(request_key request, record_type type, bytes_view bytes,
                                  bool reference) {
  if (failed_) return errc::connection_closed;
  request_slot* slot = find_active(request);
  if (slot == nullptr || !slot->started) return errc::request_not_active;
  if (slot->phase == input_phase::stdin_stream && slot->request_role == role::filter) {
    return errc::output_before_input_ready;  // §6.4
  }
  if (bytes.empty()) return errc{};  // an empty record would end the stream
  if (type == record_type::stderr_stream) slot->stderr_written = true;
  output_.append_stream(type, request.id, bytes,
                        reference ? settings_.reference_threshold : never_reference);
  return errc{};
}

errc app_connection::write_stdout(request_key request, bytes_view bytes) {
  return write_stream(request, record_type::stdout_stream, bytes, false);
}

errc app_connection::write_stderr(request_key request, bytes_view bytes) {
  return write_stream(request, record_type::stderr_stream, bytes, false);
}

errc app_connection::write_stdout_reference(request_key request, bytes_view bytes) {
  return write_stream(request, record_type::stdout_stream, bytes, true);
}

errc app_connection::end_request(request_key request, std::uint32_t app_status) {
  if (failed_) return errc::connection_closed;
  request_slot* slot = find_active(request);
  if (slot == nullptr || !slot->started) return errc::request_not_active;
  finish(*slot, app_status, protocol_status::request_complete);
  return errc{};
}

errc app_connection::reject_request(request_key request, protocol_status status) {
  if (failed_) return errc::connection_closed;
  request_slot* slot = find_active(request);
  if (slot == nullptr || !slot->started) return errc::request_not_active;
  finish(*slot, 0, status);
  return errc{};
}

bool app_connection::wants_close() const noexcept {
  return failed_ || (close_pending_ && active_count_ == 0);
}

app_event app_connection::connection_error_event() const noexcept {
  app_event ev;
  ev.kind = app_event_kind::connection_error;
  ev.request = {error_.request_id, 0};
  ev.error = error_;
  return ev;
}

app_event app_connection::fail_connection(errc code) {
  failed_ = true;
  error_ = {code, error_action::close_connection, header_.request_id, reader_.header_offset()};
  return connection_error_event();
}

app_event app_connection::fail_request(request_slot& slot, errc code) {
  app_event ev = event_for(app_event_kind::request_failed, slot.key);
  ev.error = {code, error_action::end_request, slot.key.id, reader_.header_offset()};
  ++stats_.requests_failed;
  sink_ = content_sink::discard;  // the rest of this record goes nowhere
  finish(slot, settings_.error_app_status, protocol_status::request_complete);
  return ev;
}

}  // namespace fcgi::protocol
