#include <fcgi/test/scripted_feed.hpp>

#include <fcgi/test/text.hpp>

namespace fcgi::test {
namespace {

using protocol::app_event_kind;
using protocol::client_event_kind;

std::string id_text(protocol::request_key key) { return std::to_string(key.id); }

std::string action_name(protocol::error_action a) {
  return a == protocol::error_action::close_connection ? "close_connection" : "end_request";
}

}  // namespace

std::string format_error(const protocol::protocol_error& e, bool with_offset) {
  std::string out = std::string(protocol::to_string(e.code)) + " " + action_name(e.action);
  if (with_offset) out += " at=" + std::to_string(e.offset);
  return out;
}

// --- event_log -------------------------------------------------------------------------------

void event_log::add(std::string line) {
  flush();
  lines_.push_back(std::move(line));
}

void event_log::add_chunk(std::string_view stream, protocol::request_key request,
                          std::string_view data) {
  if (data.empty()) {
    add("!! empty " + std::string(stream) + " chunk for " + id_text(request));
    return;
  }
  if (chunk_stream_ != stream || !(chunk_request_ == request)) {
    flush();
    chunk_stream_ = stream;
    chunk_request_ = request;
  }
  chunk_data_ += data;
}

void event_log::flush() {
  if (chunk_stream_.empty()) return;
  lines_.push_back(chunk_stream_ + " " + id_text(chunk_request_) + " " + render_bytes(chunk_data_));
  chunk_stream_.clear();
  chunk_data_.clear();
}

std::vector<std::string> event_log::take() {
  flush();
  std::vector<std::string> out;
  out.swap(lines_);
  return out;
}

const std::vector<std::string>& event_log::lines() {
  flush();
  return lines_;
}

// --- key_book --------------------------------------------------------------------------------

void key_book::remember(protocol::request_key key) {
  std::vector<protocol::request_key>& seen = keys_[key.id];
  if (seen.empty() || !(seen.back() == key)) seen.push_back(key);
}

std::optional<protocol::request_key> key_book::find(std::uint16_t id, std::size_t ordinal) const {
  const auto it = keys_.find(id);
  if (it == keys_.end() || it->second.empty()) return std::nullopt;
  if (ordinal == 0) return it->second.back();
  if (ordinal > it->second.size()) return std::nullopt;
  return it->second[ordinal - 1];
}

// --- app_driver ------------------------------------------------------------------------------

void app_driver::log_event(const protocol::app_event& ev) {
  const std::string id = id_text(ev.request);
  switch (ev.kind) {
    case app_event_kind::need_more: return;
    case app_event_kind::params_ready: {
      const auto list = render_pairs(ev.params.raw());
      log_.add("params_ready " + id + " " + role_name(static_cast<std::uint16_t>(ev.request_role)) +
               " keep_conn=" + (ev.keep_conn ? "1" : "0") + " " +
               list.value_or("!! params are not whole pairs"));
      return;
    }
    case app_event_kind::stdin_chunk:
      log_.add_chunk("stdin", ev.request, protocol::as_chars(ev.bytes));
      return;
    case app_event_kind::stdin_end: log_.add("stdin_end " + id); return;
    case app_event_kind::data_chunk:
      log_.add_chunk("data", ev.request, protocol::as_chars(ev.bytes));
      return;
    case app_event_kind::data_end: log_.add("data_end " + id); return;
    case app_event_kind::request_aborted: log_.add("request_aborted " + id); return;
    case app_event_kind::request_failed:
      log_.add("request_failed " + id + " " + format_error(ev.error, false));
      return;
    case app_event_kind::request_rejected:
      log_.add("request_rejected " + id + " " +
               status_name(static_cast<std::uint8_t>(ev.rejected_status)));
      return;
    case app_event_kind::connection_error:
      log_.add("connection_error " + format_error(ev.error, true));
      return;
  }
  log_.add("!! unknown event kind " + std::to_string(static_cast<int>(ev.kind)));
}

// --- client_driver ---------------------------------------------------------------------------

void client_driver::log_event(const protocol::client_event& ev) {
  const std::string id = id_text(ev.request);
  switch (ev.kind) {
    case client_event_kind::need_more: return;
    case client_event_kind::stdout_chunk:
      log_.add_chunk("stdout", ev.request, protocol::as_chars(ev.bytes));
      return;
    case client_event_kind::stdout_end: log_.add("stdout_end " + id); return;
    case client_event_kind::stderr_chunk:
      log_.add_chunk("stderr", ev.request, protocol::as_chars(ev.bytes));
      return;
    case client_event_kind::stderr_end: log_.add("stderr_end " + id); return;
    case client_event_kind::request_ended:
      log_.add("request_ended " + id + " {" + std::to_string(ev.end.app_status) + ", " +
               status_name(ev.end.protocol_status) + "}");
      return;
    case client_event_kind::values_result:
      log_.add("values_result " +
               render_pairs(ev.values.raw()).value_or("!! values are not whole pairs"));
      return;
    case client_event_kind::unknown_type:
      log_.add("unknown_type " + std::to_string(ev.unknown_type));
      return;
    case client_event_kind::connection_error:
      log_.add("connection_error " + format_error(ev.error, true));
      return;
  }
  log_.add("!! unknown event kind " + std::to_string(static_cast<int>(ev.kind)));
}

}  // namespace fcgi::test
