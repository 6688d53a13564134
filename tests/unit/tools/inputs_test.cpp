// The command-line values of fcgi-bench: durations, headers, params and the request they build.
#include <gtest/gtest.h>

#include <chrono>
#include <stdexcept>
#include <string>

#include "inputs.hpp"

namespace fcgi::bench {
namespace {

using namespace std::chrono_literals;

std::string value_of(const param_list& params, std::string_view name) {
  for (const auto& [n, v] : params)
    if (n == name) return v;
  return "<absent>";
}

TEST(inputs, durations_with_units) {
  EXPECT_EQ(parse_duration("500ms"), 500ms);
  EXPECT_EQ(parse_duration("10s"), 10s);
  EXPECT_EQ(parse_duration("1.5s"), 1500ms);
  EXPECT_EQ(parse_duration("2m"), 120s);
  EXPECT_EQ(parse_duration("1h"), 3600s);
  EXPECT_EQ(parse_duration("250us"), 250us);
  EXPECT_EQ(parse_duration("3"), 3s);
  EXPECT_EQ(parse_duration("0"), 0s);
}

TEST(inputs, bad_durations_throw) {
  for (const char* text : {"", "s", "10x", "-1s", "ten", "1e3s", "10 s", "nan"})
    EXPECT_THROW(parse_duration(text), std::invalid_argument) << text;
}

TEST(inputs, headers_and_params) {
  EXPECT_EQ(parse_header("Content-Type:  application/json "),
            std::make_pair(std::string("Content-Type"), std::string("application/json")));
  EXPECT_EQ(parse_header("X-Empty:"), std::make_pair(std::string("X-Empty"), std::string()));
  EXPECT_THROW(parse_header("no colon"), std::invalid_argument);
  EXPECT_THROW(parse_header(": value"), std::invalid_argument);
  EXPECT_EQ(parse_param("SCRIPT_FILENAME=/srv/a=b.php"),
            std::make_pair(std::string("SCRIPT_FILENAME"), std::string("/srv/a=b.php")));
  EXPECT_EQ(parse_param("EMPTY="), std::make_pair(std::string("EMPTY"), std::string()));
  EXPECT_THROW(parse_param("=x"), std::invalid_argument);
  EXPECT_THROW(parse_param("NOEQUALS"), std::invalid_argument);
}

TEST(inputs, body_argument_is_the_bytes_unless_at) {
  EXPECT_EQ(read_body_argument("a=1&b=2"), "a=1&b=2");
  EXPECT_THROW(read_body_argument("@/nonexistent/fcgi-bench/body"), std::system_error);
}

TEST(inputs, cgi_params_from_target_headers_and_body) {
  request_inputs in;
  in.target = "/app/hello?x=1";
  in.headers = {{"Content-Type", "text/plain"}, {"X-Trace", "7"}};
  in.body = std::string("12345");
  in.raw_params = {{"SCRIPT_FILENAME", "/srv/hello"}, {"SERVER_NAME", "bench"}};
  const param_list params = build_params(in);
  EXPECT_EQ(value_of(params, "REQUEST_METHOD"), "POST");  // a body and no -X
  EXPECT_EQ(value_of(params, "QUERY_STRING"), "x=1");
  EXPECT_EQ(value_of(params, "CONTENT_LENGTH"), "5");
  EXPECT_EQ(value_of(params, "CONTENT_TYPE"), "text/plain");
  EXPECT_EQ(value_of(params, "HTTP_X_TRACE"), "7");
  EXPECT_EQ(value_of(params, "SCRIPT_FILENAME"), "/srv/hello");
  EXPECT_EQ(value_of(params, "SERVER_NAME"), "bench");  // a raw param replaces the built one
  in.method = "PUT";
  EXPECT_EQ(value_of(build_params(in), "REQUEST_METHOD"), "PUT");
}

TEST(inputs, raw_params_only) {
  request_inputs in;
  in.cgi = false;
  in.raw_params = {{"A", "1"}};
  EXPECT_EQ(build_params(in), (param_list{{"A", "1"}}));
}

TEST(inputs, bad_target_throws) {
  request_inputs in;
  in.target = "no-slash";
  EXPECT_THROW(build_params(in), std::invalid_argument);
}

TEST(inputs, request_views_the_body) {
  request_inputs in;
  in.body = std::string("payload");
  const client::request r = make_request(in, {});
  EXPECT_EQ(r.body.bytes().data(), in.body->data());  // no copy per request
}

}  // namespace
}  // namespace fcgi::bench
