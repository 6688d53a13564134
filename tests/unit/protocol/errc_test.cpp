// errc, its std::error_category, to_string/describe, and the small result<T> type.
#include <fcgi/protocol/errc.hpp>

#include <set>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

namespace fcgi::protocol {
namespace {

// Every value with the identifier it must print as: to_string promises the short name.
const std::vector<std::pair<errc, std::string_view>>& all_errors() {
  static const std::vector<std::pair<errc, std::string_view>> list = {
      {errc::unsupported_version, "unsupported_version"},
      {errc::begin_request_length, "begin_request_length"},
      {errc::begin_request_on_null_id, "begin_request_on_null_id"},
      {errc::request_id_already_active, "request_id_already_active"},
      {errc::application_record_on_null_id, "application_record_on_null_id"},
      {errc::management_record_on_request_id, "management_record_on_request_id"},
      {errc::record_type_wrong_direction, "record_type_wrong_direction"},
      {errc::end_request_length, "end_request_length"},
      {errc::unknown_type_length, "unknown_type_length"},
      {errc::response_for_inactive_request, "response_for_inactive_request"},
      {errc::stream_after_end, "stream_after_end"},
      {errc::params_too_large, "params_too_large"},
      {errc::too_many_params, "too_many_params"},
      {errc::truncated_pair, "truncated_pair"},
      {errc::empty_param_name, "empty_param_name"},
      {errc::nul_in_param_name, "nul_in_param_name"},
      {errc::duplicate_param, "duplicate_param"},
      {errc::invalid_content_length, "invalid_content_length"},
      {errc::get_values_too_large, "get_values_too_large"},
      {errc::stdin_before_params_end, "stdin_before_params_end"},
      {errc::params_after_params_end, "params_after_params_end"},
      {errc::data_before_stdin_end, "data_before_stdin_end"},
      {errc::data_for_non_filter, "data_for_non_filter"},
      {errc::stdin_longer_than_content_length, "stdin_longer_than_content_length"},
      {errc::stdin_shorter_than_content_length, "stdin_shorter_than_content_length"},
      {errc::request_not_active, "request_not_active"},
      {errc::output_before_input_ready, "output_before_input_ready"},
      {errc::too_many_active_requests, "too_many_active_requests"},
      {errc::stream_already_ended, "stream_already_ended"},
      {errc::connection_closed, "connection_closed"},
      {errc::param_too_long, "param_too_long"},
      {errc::invalid_method, "invalid_method"},
      {errc::invalid_request_target, "invalid_request_target"},
      {errc::unsafe_request_path, "unsafe_request_path"},
      {errc::script_name_mismatch, "script_name_mismatch"},
      {errc::invalid_header_value, "invalid_header_value"},
      {errc::duplicate_request_header, "duplicate_request_header"},
      {errc::response_head_too_large, "response_head_too_large"},
      {errc::too_many_response_fields, "too_many_response_fields"},
      {errc::invalid_response_line, "invalid_response_line"},
      {errc::folded_response_line, "folded_response_line"},
      {errc::invalid_status, "invalid_status"},
      {errc::duplicate_response_field, "duplicate_response_field"},
      {errc::invalid_response_content_length, "invalid_response_content_length"},
      {errc::response_head_incomplete, "response_head_incomplete"},
  };
  return list;
}

// Values are append-only and stored by users: pin the numbers.
TEST(errc, values_are_pinned) {
  EXPECT_EQ(static_cast<int>(errc::unsupported_version), 1);
  EXPECT_EQ(static_cast<int>(errc::stream_after_end), 11);
  EXPECT_EQ(static_cast<int>(errc::params_too_large), 12);
  EXPECT_EQ(static_cast<int>(errc::get_values_too_large), 19);
  EXPECT_EQ(static_cast<int>(errc::stdin_before_params_end), 20);
  EXPECT_EQ(static_cast<int>(errc::stdin_shorter_than_content_length), 25);
  EXPECT_EQ(static_cast<int>(errc::request_not_active), 26);
  EXPECT_EQ(static_cast<int>(errc::param_too_long), 31);
  EXPECT_EQ(static_cast<int>(errc::invalid_method), 32);
  EXPECT_EQ(static_cast<int>(errc::duplicate_request_header), 37);
  EXPECT_EQ(static_cast<int>(errc::response_head_too_large), 38);
  EXPECT_EQ(static_cast<int>(errc::response_head_incomplete), 45);
  // The list above is contiguous from 1: a missing entry would show here.
  for (std::size_t i = 0; i < all_errors().size(); ++i) {
    EXPECT_EQ(static_cast<std::size_t>(all_errors()[i].first), i + 1);
  }
}

TEST(errc, to_string_names_every_value) {
  for (const auto& [code, name] : all_errors()) EXPECT_EQ(to_string(code), name);
}

TEST(errc, to_string_of_unlisted_value_is_unknown) {
  EXPECT_EQ(to_string(errc{}), "success");  // 0 is std::error_code's success
  EXPECT_EQ(to_string(static_cast<errc>(200)), "unknown");
  EXPECT_EQ(to_string(static_cast<errc>(all_errors().size() + 1)), "unknown");
}

TEST(errc, describe_gives_a_distinct_sentence_for_every_value) {
  std::set<std::string_view> seen;
  for (const auto& [code, name] : all_errors()) {
    const std::string_view sentence = describe(code);
    EXPECT_FALSE(sentence.empty()) << name;
    EXPECT_NE(sentence, name) << "describe() should explain, not repeat the name";
    EXPECT_TRUE(seen.insert(sentence).second) << name << ": " << sentence;
  }
  EXPECT_FALSE(describe(static_cast<errc>(200)).empty());
}

TEST(errc, error_code_uses_the_protocol_category) {
  const std::error_code ec = errc::truncated_pair;  // is_error_code_enum makes this implicit
  EXPECT_EQ(ec.category(), protocol_category());
  EXPECT_EQ(ec.value(), static_cast<int>(errc::truncated_pair));
  EXPECT_EQ(std::string_view(protocol_category().name()), "fcgi.protocol");
  EXPECT_EQ(ec, make_error_code(errc::truncated_pair));
  EXPECT_NE(ec, make_error_code(errc::params_too_large));
  EXPECT_TRUE(static_cast<bool>(ec));
}

TEST(errc, category_message_is_the_description) {
  for (const auto& [code, name] : all_errors()) {
    EXPECT_EQ(make_error_code(code).message(), std::string(describe(code))) << name;
  }
  EXPECT_FALSE(protocol_category().message(200).empty());
}

TEST(errc, error_action_to_string) {
  EXPECT_EQ(to_string(error_action::close_connection), "close_connection");
  EXPECT_EQ(to_string(error_action::end_request), "end_request");
}

TEST(errc, protocol_error_defaults_to_close_at_offset_zero) {
  const protocol_error e;
  EXPECT_EQ(e.code, errc{});
  EXPECT_EQ(e.action, error_action::close_connection);
  EXPECT_EQ(e.request_id, 0);
  EXPECT_EQ(e.offset, 0U);
}

TEST(errc, result_holds_a_value) {
  const result<std::string> r(std::string("value"));
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(static_cast<bool>(r));
  EXPECT_EQ(r.error(), errc{});
  EXPECT_EQ(r.value(), "value");
  EXPECT_EQ(*r, "value");
  EXPECT_EQ(r->size(), 5U);
}

TEST(errc, result_holds_an_error) {
  const result<int> r = errc::too_many_active_requests;
  EXPECT_FALSE(r.has_value());
  EXPECT_FALSE(static_cast<bool>(r));
  EXPECT_EQ(r.error(), errc::too_many_active_requests);
}

}  // namespace
}  // namespace fcgi::protocol
