#include <fcgi/protocol/client_connection.hpp>

#include <algorithm>
#include <limits>

namespace fcgi::protocol {
namespace {

constexpr std::size_t never_reference = std::numeric_limits<std::size_t>::max();

client_event event_for(client_event_kind kind, request_key request) noexcept {
  client_event ev;
  ev.kind = kind;
  ev.request = request;
  return ev;
}

}  // namespace

std::string_view to_string(client_event_kind k) noexcept {
  switch (k) {
    case client_event_kind::need_more: return "need_more";
    case client_event_kind::stdout_chunk: return "stdout_chunk";
    case client_event_kind::stdout_end: return "stdout_end";
    case client_event_kind::stderr_chunk: return "stderr_chunk";
    case client_event_kind::stderr_end: return "stderr_end";
    case client_event_kind::request_ended: return "request_ended";
    case client_event_kind::values_result: return "values_result";
    case client_event_kind::unknown_type: return "unknown_type";
    case client_event_kind::connection_error: return "connection_error";
  }
  return "unknown";
}

client_connection::client_connection(const client_settings& settings) : settings_(settings) {}

// --- requests out ---------------------------------------------------------------------------

client_connection::request_slot* client_connection::allocate_slot() noexcept {
  const std::size_t limit = std::min<std::size_t>(settings_.max_requests, 0xffff);
  for (request_slot& slot : slots_) {
    if (!slot.active) return &slot;
  }
  if (slots_.size() >= limit) return nullptr;
  return &slots_.emplace_back();
}

result<request_key> client_connection::begin_request(role r, bool keep_conn) {
  if (failed_) return errc::connection_closed;
  request_slot* slot = allocate_slot();
  if (slot == nullptr) return errc::too_many_active_requests;
  // Index i carries id i + 1, so the lowest free slot is the lowest free id (§3.3).
  const auto id = static_cast<std::uint16_t>(slot - slots_.data() + 1);
  *slot = request_slot{};
  slot->active = true;
  slot->request_role = r;
  slot->key = {id, next_generation_++};
  output_.append(make_begin_request(id, r, keep_conn));
  if (!keep_conn) closing_ = true;
  ++active_count_;
  ++stats_.requests_started;
  return slot->key;
}

errc client_connection::send_params(request_key request, std::span<const param> params) {
  if (failed_) return errc::connection_closed;
  request_slot* slot = find_active(request);
  if (slot == nullptr) return errc::request_not_active;
  if (slot->phase != send_phase::params) return errc::stream_already_ended;
  std::size_t size = 0;
  for (const param& p : params) {
    if (p.name.size() > max_pair_length || p.value.size() > max_pair_length) {
      return errc::param_too_long;
    }
    size += encoded_pair_size(p.name, p.value);
  }
  scratch_.resize(size);
  std::size_t at = 0;
  for (const param& p : params) at += encode_pair(p.name, p.value, std::span(scratch_).subspan(at));
  output_.append_stream(record_type::params, request.id, scratch_, never_reference);
  return errc{};
}

errc client_connection::end_params(request_key request) {
  return end_stream(request, send_phase::params, record_type::params);
}

errc client_connection::send_stdin(request_key request, bytes_view bytes) {
  return send_stream(request, send_phase::stdin_stream, record_type::stdin_stream, bytes, false);
}

errc client_connection::send_stdin_reference(request_key request, bytes_view bytes) {
  return send_stream(request, send_phase::stdin_stream, record_type::stdin_stream, bytes, true);
}

errc client_connection::end_stdin(request_key request) {
  return end_stream(request, send_phase::stdin_stream, record_type::stdin_stream);
}

errc client_connection::send_data(request_key request, bytes_view bytes) {
  return send_stream(request, send_phase::data_stream, record_type::data, bytes, false);
}

errc client_connection::end_data(request_key request) {
  return end_stream(request, send_phase::data_stream, record_type::data);
}

client_connection::request_slot* client_connection::stream_slot(request_key request,
                                                                send_phase phase, errc& error) {
  request_slot* slot = failed_ ? nullptr : find_active(request);
  if (slot == nullptr) {
    error = failed_ ? errc::connection_closed : errc::request_not_active;
  } else if (phase == send_phase::data_stream && slot->request_role != role::filter) {
    error = errc::data_for_non_filter;
  } else if (slot->phase < phase) {
    // Writing STDIN too early means PARAMS is still open; DATA too early, STDIN is (§6.4).
    error = phase == send_phase::stdin_stream ? errc::stdin_before_params_end
                                              : errc::data_before_stdin_end;
  } else if (slot->phase > phase) {
    error = errc::stream_already_ended;
  } else {
    error = errc{};
  }
  return error == errc{} ? slot : nullptr;
}

errc client_connection::send_stream(request_key request, send_phase phase, record_type type,
                                    bytes_view bytes, bool reference) {
  errc error{};
  if (stream_slot(request, phase, error) == nullptr) return error;
  output_.append_stream(type, request.id, bytes,
                        reference ? settings_.reference_threshold : never_reference);
  return errc{};
}

errc client_connection::end_stream(request_key request, send_phase phase, record_type type) {
  errc error{};
  request_slot* slot = stream_slot(request, phase, error);
  if (slot == nullptr) return error;
  output_.append(make_empty_record(type, request.id));
  if (phase == send_phase::params) {
    slot->phase = send_phase::stdin_stream;
  } else if (phase == send_phase::stdin_stream && slot->request_role == role::filter) {
    slot->phase = send_phase::data_stream;
  } else {
    slot->phase = send_phase::done;
  }
  return errc{};
}

errc client_connection::abort_request(request_key request) {
  if (failed_) return errc::connection_closed;
  request_slot* slot = find_active(request);
  if (slot == nullptr) return errc::request_not_active;
  if (slot->abort_sent) return errc{};
  slot->abort_sent = true;
  output_.append(make_empty_record(record_type::abort_request, request.id));
  return errc{};
}

errc client_connection::query_values(std::span<const std::string_view> names) {
  if (failed_) return errc::connection_closed;
  std::size_t size = 0;
  for (const std::string_view name : names) {
    if (name.size() > max_content_length) return errc::get_values_too_large;
    size += encoded_pair_size(name, {});
  }
  if (size > max_content_length) return errc::get_values_too_large;  // §4.1: one record
  scratch_.resize(size + header_size + padding_for(size));
  std::size_t at = header_size;
  for (const std::string_view name : names) {
    at += encode_pair(name, {}, std::span(scratch_).subspan(at));
  }
  const bytes_view content = std::span(scratch_).subspan(header_size, size);
  // encode_record copies content into place; move it out of the way first.
  std::vector<std::byte> pairs(content.begin(), content.end());
  const std::size_t n = encode_record(record_type::get_values, null_request_id, pairs, scratch_);
  output_.append(std::span(scratch_).first(n));
  return errc{};
}

// --- responses in ---------------------------------------------------------------------------

client_event client_connection::next_event(bytes_view& input) {
  if (failed_) return connection_error_event();
  for (;;) {
    bytes_view chunk;
    client_event ev;
    switch (reader_.next(input, chunk)) {
      case record_reader::step::need_more: return ev;
      case record_reader::step::header:
        header_ = reader_.header();
        ++stats_.records;
        sink_ = content_sink::discard;
        body_fill_ = 0;
        ev = on_header();
        break;
      case record_reader::step::content: ev = on_content(chunk); break;
      case record_reader::step::content_end: ev = on_content_end(management_); break;
    }
    if (ev.kind != client_event_kind::need_more) return ev;
  }
}

client_event client_connection::on_header() {
  if (header_.version != version_1) return fail_connection(errc::unsupported_version);
  const std::uint16_t id = header_.request_id;
  const auto type = static_cast<record_type>(header_.type);
  switch (type) {
    case record_type::stdout_stream:
    case record_type::stderr_stream: return on_stream_header(type);
    case record_type::end_request: {
      if (id == null_request_id) return fail_connection(errc::application_record_on_null_id);
      const request_slot* slot = find_active(id);
      if (slot == nullptr) return fail_connection(errc::response_for_inactive_request);
      if (header_.content_length != fixed_body_size) {
        return fail_connection(errc::end_request_length);
      }
      current_ = slot->key;
      sink_ = content_sink::end_request;
      return {};
    }
    case record_type::get_values_result:
      if (id != null_request_id) return fail_connection(errc::management_record_on_request_id);
      management_.clear();
      sink_ = content_sink::values;
      return {};
    case record_type::unknown_type:
      if (id != null_request_id) return fail_connection(errc::management_record_on_request_id);
      if (header_.content_length != fixed_body_size) {
        return fail_connection(errc::unknown_type_length);
      }
      sink_ = content_sink::unknown_type;
      return {};
    case record_type::begin_request:
    case record_type::abort_request:
    case record_type::params:
    case record_type::stdin_stream:
    case record_type::data:
    case record_type::get_values: return fail_connection(errc::record_type_wrong_direction);
  }
  ++stats_.ignored_records;  // a type this version does not define: skip it
  return {};
}

client_event client_connection::on_stream_header(record_type type) {
  const std::uint16_t id = header_.request_id;
  if (id == null_request_id) return fail_connection(errc::application_record_on_null_id);
  request_slot* slot = find_active(id);
  if (slot == nullptr) return fail_connection(errc::response_for_inactive_request);
  const bool is_stdout = type == record_type::stdout_stream;
  bool& ended = is_stdout ? slot->stdout_ended : slot->stderr_ended;
  if (ended) return fail_connection(errc::stream_after_end);
  if (header_.content_length == 0) {
    ended = true;
    return event_for(is_stdout ? client_event_kind::stdout_end : client_event_kind::stderr_end,
                     slot->key);
  }
  current_ = slot->key;
  sink_ = is_stdout ? content_sink::stdout_stream : content_sink::stderr_stream;
  return {};
}

client_event client_connection::on_content(bytes_view chunk) {
  switch (sink_) {
    case content_sink::discard: return {};
    case content_sink::stdout_stream:
    case content_sink::stderr_stream: {
      client_event ev =
          event_for(sink_ == content_sink::stdout_stream ? client_event_kind::stdout_chunk
                                                         : client_event_kind::stderr_chunk,
                    current_);
      ev.bytes = chunk;
      return ev;
    }
    case content_sink::end_request:
    case content_sink::unknown_type:
      std::copy_n(chunk.begin(), chunk.size(),
                  body_bytes_.begin() + static_cast<std::ptrdiff_t>(body_fill_));
      body_fill_ += chunk.size();
      return {};
    case content_sink::values:
      if (management_.empty() && chunk.size() == header_.content_length) {
        return on_content_end(chunk);  // the whole record is in this read: no copy
      }
      management_.insert(management_.end(), chunk.begin(), chunk.end());
      return {};
  }
  return {};
}

client_event client_connection::on_content_end(bytes_view whole_content) {
  switch (sink_) {
    case content_sink::end_request: {
      request_slot* slot = find_active(current_);
      client_event ev = event_for(client_event_kind::request_ended, current_);
      decode_end_request_body(body_bytes_, ev.end);
      if (slot != nullptr) {
        slot->active = false;
        --active_count_;
      }
      ++stats_.requests_ended;
      return ev;
    }
    case content_sink::unknown_type: {
      client_event ev = event_for(client_event_kind::unknown_type, {});
      decode_unknown_type_body(body_bytes_, ev.unknown_type);
      return ev;
    }
    case content_sink::values: {
      sink_ = content_sink::discard;  // a later empty read must not report it twice
      if (validate_pairs(whole_content, std::numeric_limits<std::size_t>::max()) != errc{}) {
        return fail_connection(errc::truncated_pair);
      }
      client_event ev = event_for(client_event_kind::values_result, {});
      ev.values = param_list(whole_content);
      return ev;
    }
    default: return {};
  }
}

client_connection::request_slot* client_connection::find_active(std::uint16_t id) noexcept {
  if (id == 0 || id > slots_.size()) return nullptr;
  request_slot& slot = slots_[id - 1U];
  return slot.active ? &slot : nullptr;
}

client_connection::request_slot* client_connection::find_active(request_key key) noexcept {
  request_slot* slot = find_active(key.id);
  return slot != nullptr && slot->key == key ? slot : nullptr;
}

client_event client_connection::connection_error_event() const noexcept {
  client_event ev;
  ev.kind = client_event_kind::connection_error;
  ev.request = {error_.request_id, 0};
  ev.error = error_;
  return ev;
}

client_event client_connection::fail_connection(errc code) {
  failed_ = true;
  error_ = {code, error_action::close_connection, header_.request_id, reader_.header_offset()};
  return connection_error_event();
}

}  // namespace fcgi::protocol
