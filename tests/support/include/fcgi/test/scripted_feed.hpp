// Scripted feeds: drive a connection state machine with input split at chosen offsets and
// record what it does as canonical text, so that "the same input, split anywhere, gives the
// same result" is a string comparison.
//
// Every event becomes one log line:
//
//   app_connection                                  client_connection
//   params_ready 1 RESPONDER keep_conn=1 {A=b}      stdout 1 "Hello"
//   stdin 1 "abc"            stdin_end 1            stdout_end 1      stderr 1 "..."
//   data 1 "..."             data_end 1             stderr_end 1
//   request_aborted 1                               request_ended 1 {0, REQUEST_COMPLETE}
//   request_failed 1 truncated_pair end_request     values_result {FCGI_MAX_CONNS=10}
//   request_rejected 1 OVERLOADED                   unknown_type 99
//   connection_error unsupported_version close_connection at=0
//
// Consecutive chunk events of the same request and stream are merged into one line, so the
// log does not depend on where the input was split. Misbehaviour of the state machine itself
// is logged as lines starting with "!!" (need_more with input left, an empty chunk, an error
// that is not sticky, no progress), which no expected log contains.
//
// Each chunk of input is copied into its own exactly sized heap block before it is fed, so
// under AddressSanitizer any read past the bytes actually given is caught.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include <fcgi/protocol/app_connection.hpp>
#include <fcgi/protocol/client_connection.hpp>
#include <fcgi/test/output_decoder.hpp>
#include <fcgi/test/record_builder.hpp>

namespace fcgi::test {

/// A log of event lines that merges consecutive chunks of one stream.
class event_log {
 public:
  void add(std::string line);
  /// Appends `data` to the pending chunk line of (`stream`, `request`), or starts a new one.
  void add_chunk(std::string_view stream, protocol::request_key request, std::string_view data);
  /// All lines so far (the pending chunk included), then forgets them.
  std::vector<std::string> take();
  /// All lines so far, the pending chunk included.
  const std::vector<std::string>& lines();

 private:
  void flush();

  std::vector<std::string> lines_;
  std::string chunk_stream_;  ///< empty when no chunk is pending
  protocol::request_key chunk_request_;
  std::string chunk_data_;
};

/// Keys seen per request id, in order, so tests can name "the first request on id 1".
class key_book {
 public:
  void remember(protocol::request_key key);
  /// ordinal 0: the latest key of `id`; 1: the first, 2: the second...
  [[nodiscard]] std::optional<protocol::request_key> find(std::uint16_t id,
                                                          std::size_t ordinal = 0) const;

 private:
  std::map<std::uint16_t, std::vector<protocol::request_key>> keys_;
};

/// What the drivers have in common: logs, output and split helpers.
template <class Connection, class Event>
class basic_driver {
 public:
  /// Called with every event but need_more, before it is logged (its views are valid during
  /// the call).
  std::function<void(const Event&)> on_event;

  Connection& connection() noexcept { return connection_; }

  /// Feeds `input` as one read.
  void feed(bytes_view input) { feed_piece(input); }
  /// Feeds `input` as several reads, cut at `offsets` (ascending; 0 and input.size() and
  /// repeated offsets are allowed and give no empty reads).
  void feed_split(bytes_view input, std::span<const std::size_t> offsets) {
    std::size_t at = 0;
    for (const std::size_t cut : offsets) {
      if (cut <= at || cut >= input.size()) continue;
      feed_piece(input.subspan(at, cut - at));
      at = cut;
    }
    feed_piece(input.subspan(at));
  }
  void feed_one_byte_at_a_time(bytes_view input) {
    for (std::size_t i = 0; i < input.size(); ++i) feed_piece(input.subspan(i, 1));
  }

  /// The event lines since the last take_events().
  std::vector<std::string> take_events() { return log_.take(); }
  const std::vector<std::string>& events() { return log_.lines(); }
  /// The records queued since the last take_output() (drained from the connection).
  std::vector<decoded_record> take_output() { return drain_records(connection_.output()); }
  std::vector<std::string> take_output_text() { return format_records(take_output()); }

  key_book& keys() noexcept { return keys_; }
  [[nodiscard]] std::optional<protocol::request_key> key(std::uint16_t id,
                                                         std::size_t ordinal = 0) const {
    return keys_.find(id, ordinal);
  }

 protected:
  template <class... Args>
  explicit basic_driver(Args&&... args) : connection_(std::forward<Args>(args)...) {}

  /// Adds `ev` to log_ (chunks through add_chunk, so that they merge).
  virtual void log_event(const Event& ev) = 0;
  virtual bool is_need_more(const Event& ev) const = 0;
  virtual bool is_connection_error(const Event& ev) const = 0;
  virtual ~basic_driver() = default;

  void feed_piece(bytes_view piece);

  Connection connection_;
  event_log log_;
  key_book keys_;
  std::optional<protocol::protocol_error> error_;  ///< the connection_error once reported
};

class app_driver final : public basic_driver<protocol::app_connection, protocol::app_event> {
 public:
  explicit app_driver(const protocol::app_settings& settings = {}) : basic_driver(settings) {}

 private:
  void log_event(const protocol::app_event& ev) override;
  bool is_need_more(const protocol::app_event& ev) const override {
    return ev.kind == protocol::app_event_kind::need_more;
  }
  bool is_connection_error(const protocol::app_event& ev) const override {
    return ev.kind == protocol::app_event_kind::connection_error;
  }
};

class client_driver final
    : public basic_driver<protocol::client_connection, protocol::client_event> {
 public:
  explicit client_driver(const protocol::client_settings& settings = {}) : basic_driver(settings) {}

 private:
  void log_event(const protocol::client_event& ev) override;
  bool is_need_more(const protocol::client_event& ev) const override {
    return ev.kind == protocol::client_event_kind::need_more;
  }
  bool is_connection_error(const protocol::client_event& ev) const override {
    return ev.kind == protocol::client_event_kind::connection_error;
  }
};

/// "connection_error <code> <action> at=<offset>" / "<code> <action>".
std::string format_error(const protocol::protocol_error& e, bool with_offset);

// ---------------------------------------------------------------------------------------------

template <class Connection, class Event>
void basic_driver<Connection, Event>::feed_piece(bytes_view piece) {
  if (piece.empty()) return;
  // An exactly sized copy: ASan reports any read past the end of what this read gave.
  const bytes copy(piece.begin(), piece.end());
  bytes_view input(copy);
  if (error_) {
    // Errors are sticky: every later call reports the same one again (and nothing is logged).
    const Event again = connection_.next_event(input);
    if (!is_connection_error(again) || again.error.code != error_->code) {
      log_.add("!! connection_error not sticky");
    }
    return;
  }
  // A state machine reports at most a few events per record; this bound only stops a loop.
  std::size_t idle_events = 0;
  for (;;) {
    const std::size_t before = input.size();
    const Event ev = connection_.next_event(input);
    if (is_need_more(ev)) {
      if (!input.empty())
        log_.add("!! need_more with " + std::to_string(input.size()) + " bytes left");
      return;
    }
    if (on_event) on_event(ev);
    if (ev.request.id != 0 && ev.request.generation != 0) keys_.remember(ev.request);
    log_event(ev);
    if (is_connection_error(ev)) {
      error_ = ev.error;
      const Event again = connection_.next_event(input);
      if (!is_connection_error(again) || again.error.code != ev.error.code) {
        log_.add("!! connection_error not sticky");
      }
      return;
    }
    idle_events = input.size() == before ? idle_events + 1 : 0;
    if (idle_events > 64) {
      log_.add("!! no progress: events without consuming input");
      return;
    }
  }
}

}  // namespace fcgi::test
