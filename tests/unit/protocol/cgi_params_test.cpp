// build_cgi_params: the CGI/1.1 variables (RFC 3875 §4.1) a web server sends for a request.
// Case numbers F-nn refer to /work/shared/HOSTILE.md section F.
#include <fcgi/protocol/cgi_params.hpp>

#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "test_util.hpp"

namespace fcgi::protocol {
namespace {

cgi_request request_for(std::string target) {
  cgi_request request;
  request.target = std::move(target);
  return request;
}

cgi_params build_ok(const cgi_request& request) {
  const result<cgi_params> built = build_cgi_params(request);
  EXPECT_TRUE(built.has_value()) << "failed with " << to_string(built.error());
  return built.has_value() ? built.value() : cgi_params{};
}

errc build_error(const cgi_request& request) {
  const result<cgi_params> built = build_cgi_params(request);
  EXPECT_FALSE(built.has_value());
  return built.error();
}

/// The value of `name`, or "<absent>" (no test value uses that spelling).
std::string value_of(const cgi_params& built, std::string_view name) {
  const std::optional<std::string_view> value = built.find(name);
  return value ? std::string(*value) : std::string("<absent>");
}

std::vector<std::string> names_of(const cgi_params& built) {
  std::vector<std::string> names;
  for (const cgi_param& p : built.params) names.push_back(p.name);
  return names;
}

void expect_unique_names(const cgi_params& built) {
  std::set<std::string> seen;
  for (const cgi_param& p : built.params) EXPECT_TRUE(seen.insert(p.name).second) << p.name;
}

// ---------------------------------------------------------------------------------------------
// The variables of RFC 3875 §4.1 for a plain GET

TEST(cgi_params, default_request_gives_the_documented_variables_in_order) {
  const cgi_params built = build_ok(cgi_request{});
  const std::vector<cgi_param> expected = {
      {"GATEWAY_INTERFACE", "CGI/1.1"},
      {"SERVER_SOFTWARE", "fcgikit"},
      {"REQUEST_METHOD", "GET"},
      {"REQUEST_URI", "/"},
      {"REQUEST_SCHEME", "http"},
      {"DOCUMENT_URI", "/"},
      {"SCRIPT_NAME", "/"},
      {"PATH_INFO", ""},
      {"QUERY_STRING", ""},
      {"SERVER_NAME", "localhost"},
      {"SERVER_PORT", "80"},
      {"SERVER_PROTOCOL", "HTTP/1.1"},
      {"REMOTE_ADDR", "127.0.0.1"},
      {"REDIRECT_STATUS", "200"},
  };
  EXPECT_EQ(built.params, expected);
  EXPECT_TRUE(built.dropped_headers.empty());
}

TEST(cgi_params, request_fields_reach_their_variables) {
  cgi_request request = request_for("/index.php");
  request.method = "POST";
  request.server_name = "www.example.com";
  request.server_port = "8443";
  request.server_protocol = "HTTP/1.0";
  request.remote_addr = "203.0.113.9";
  request.remote_port = "51234";
  request.https = true;
  const cgi_params built = build_ok(request);
  EXPECT_EQ(value_of(built, "REQUEST_METHOD"), "POST");
  EXPECT_EQ(value_of(built, "SERVER_NAME"), "www.example.com");
  EXPECT_EQ(value_of(built, "SERVER_PORT"), "8443");
  EXPECT_EQ(value_of(built, "SERVER_PROTOCOL"), "HTTP/1.0");
  EXPECT_EQ(value_of(built, "REMOTE_ADDR"), "203.0.113.9");
  EXPECT_EQ(value_of(built, "REMOTE_PORT"), "51234");
  EXPECT_EQ(value_of(built, "HTTPS"), "on");
  EXPECT_EQ(value_of(built, "REQUEST_SCHEME"), "https");
}

TEST(cgi_params, no_remote_port_and_no_https_when_not_set) {
  const cgi_params built = build_ok(request_for("/"));
  EXPECT_EQ(value_of(built, "REMOTE_PORT"), "<absent>");
  EXPECT_EQ(value_of(built, "HTTPS"), "<absent>");  // never "off": apps test for presence
}

TEST(cgi_params, query_string_is_raw_and_never_decoded) {
  const cgi_params built = build_ok(request_for("/s.php?q=a%20b&x=%zz+%00"));
  EXPECT_EQ(value_of(built, "QUERY_STRING"), "q=a%20b&x=%zz+%00");
  EXPECT_EQ(value_of(built, "REQUEST_URI"), "/s.php?q=a%20b&x=%zz+%00");
  EXPECT_EQ(value_of(built, "DOCUMENT_URI"), "/s.php");
}

TEST(cgi_params, empty_query_after_question_mark_and_second_question_mark) {
  EXPECT_EQ(value_of(build_ok(request_for("/a?")), "QUERY_STRING"), "");
  EXPECT_EQ(value_of(build_ok(request_for("/a?b?c")), "QUERY_STRING"), "b?c");
  EXPECT_EQ(value_of(build_ok(request_for("/a?")), "REQUEST_URI"), "/a?");
}

// ---------------------------------------------------------------------------------------------
// SCRIPT_NAME / PATH_INFO, RFC 3875 §4.1.5, §4.1.13

TEST(cgi_params, script_name_prefix_splits_path_info) {
  cgi_request request = request_for("/app.php/extra/more?x=1");
  request.script_name = "/app.php";
  const cgi_params built = build_ok(request);
  EXPECT_EQ(value_of(built, "SCRIPT_NAME"), "/app.php");
  EXPECT_EQ(value_of(built, "PATH_INFO"), "/extra/more");
  EXPECT_EQ(value_of(built, "DOCUMENT_URI"), "/app.php/extra/more");
  EXPECT_EQ(value_of(built, "REQUEST_URI"), "/app.php/extra/more?x=1");
  EXPECT_EQ(value_of(built, "QUERY_STRING"), "x=1");
  EXPECT_EQ(value_of(built, "PATH_TRANSLATED"), "<absent>");  // no document root
}

TEST(cgi_params, script_name_equal_to_the_path_gives_empty_path_info) {
  cgi_request request = request_for("/app.php");
  request.script_name = "/app.php";
  const cgi_params built = build_ok(request);
  EXPECT_EQ(value_of(built, "SCRIPT_NAME"), "/app.php");
  EXPECT_EQ(value_of(built, "PATH_INFO"), "");
}

TEST(cgi_params, path_info_is_percent_decoded_like_nginx) {
  cgi_request request = request_for("/my%20app.php/caf%C3%A9/a%2Fb%3F?q=%20");
  request.script_name = "/my app.php";  // matched against the decoded path
  const cgi_params built = build_ok(request);
  EXPECT_EQ(value_of(built, "SCRIPT_NAME"), "/my app.php");
  EXPECT_EQ(value_of(built, "PATH_INFO"), "/caf\xC3\xA9/a/b?");
  EXPECT_EQ(value_of(built, "DOCUMENT_URI"), "/my app.php/caf\xC3\xA9/a/b?");
  EXPECT_EQ(value_of(built, "QUERY_STRING"), "q=%20");
  EXPECT_EQ(value_of(built, "REQUEST_URI"), "/my%20app.php/caf%C3%A9/a%2Fb%3F?q=%20");
}

TEST(cgi_params, lowercase_and_uppercase_percent_hex_decode_alike) {
  cgi_request request = request_for("/%7e%7E");
  EXPECT_EQ(value_of(build_ok(request), "SCRIPT_NAME"), "/~~");
}

TEST(cgi_params, script_name_not_a_prefix_fails) {
  cgi_request request = request_for("/other.php/x");
  request.script_name = "/app.php";
  EXPECT_EQ(build_error(request), errc::script_name_mismatch);
}

TEST(cgi_params, script_name_must_end_at_a_segment_boundary) {
  cgi_request request = request_for("/app.phpx/y");
  request.script_name = "/app.php";
  EXPECT_EQ(build_error(request), errc::script_name_mismatch);
}

TEST(cgi_params, script_name_must_start_with_a_slash) {
  cgi_request request = request_for("/app.php");
  request.script_name = "app.php";
  EXPECT_EQ(build_error(request), errc::script_name_mismatch);
}

TEST(cgi_params, script_name_longer_than_the_path_fails) {
  cgi_request request = request_for("/app");
  request.script_name = "/app/index.php";
  EXPECT_EQ(build_error(request), errc::script_name_mismatch);
}

// ---------------------------------------------------------------------------------------------
// DOCUMENT_ROOT, SCRIPT_FILENAME, PATH_TRANSLATED

TEST(cgi_params, document_root_derives_script_filename_and_path_translated) {
  cgi_request request = request_for("/app.php/x/y");
  request.script_name = "/app.php";
  request.document_root = "/var/www/html";
  const cgi_params built = build_ok(request);
  EXPECT_EQ(value_of(built, "DOCUMENT_ROOT"), "/var/www/html");
  EXPECT_EQ(value_of(built, "SCRIPT_FILENAME"), "/var/www/html/app.php");
  EXPECT_EQ(value_of(built, "PATH_TRANSLATED"), "/var/www/html/x/y");
}

TEST(cgi_params, trailing_slash_of_the_root_is_not_doubled) {
  cgi_request request = request_for("/app.php/x");
  request.script_name = "/app.php";
  request.document_root = "/srv/";
  const cgi_params built = build_ok(request);
  EXPECT_EQ(value_of(built, "DOCUMENT_ROOT"), "/srv/");  // as configured
  EXPECT_EQ(value_of(built, "SCRIPT_FILENAME"), "/srv/app.php");
  EXPECT_EQ(value_of(built, "PATH_TRANSLATED"), "/srv/x");
}

TEST(cgi_params, no_path_translated_without_path_info) {
  cgi_request request = request_for("/app.php");
  request.document_root = "/srv";
  const cgi_params built = build_ok(request);
  EXPECT_EQ(value_of(built, "SCRIPT_FILENAME"), "/srv/app.php");
  EXPECT_EQ(value_of(built, "PATH_TRANSLATED"), "<absent>");
}

TEST(cgi_params, no_root_no_script_filename) {
  const cgi_params built = build_ok(request_for("/app.php"));
  EXPECT_EQ(value_of(built, "DOCUMENT_ROOT"), "<absent>");
  EXPECT_EQ(value_of(built, "SCRIPT_FILENAME"), "<absent>");
}

TEST(cgi_params, explicit_script_filename_overrides_the_derived_one) {
  cgi_request request = request_for("/app.php");
  request.document_root = "/srv";
  request.script_filename = "/opt/front.php";
  const cgi_params built = build_ok(request);
  EXPECT_EQ(value_of(built, "SCRIPT_FILENAME"), "/opt/front.php");
  EXPECT_EQ(value_of(built, "DOCUMENT_ROOT"), "/srv");
  request.document_root.clear();
  EXPECT_EQ(value_of(build_ok(request), "SCRIPT_FILENAME"), "/opt/front.php");
}

// ---------------------------------------------------------------------------------------------
// Hostile paths (F-71): decoded control characters, dot segments, bad escapes

TEST(cgi_params, decoded_nul_cr_lf_in_the_path_fail_f71) {
  for (const char* target : {"/a.php%00.jpg", "/a%0a", "/a%0A", "/a%0d", "/a%0D/b", "/%01", "/%1f",
                             "/%7f", "/a.php/%00"}) {
    EXPECT_EQ(build_error(request_for(target)), errc::unsafe_request_path) << target;
  }
}

TEST(cgi_params, unsafe_path_is_found_before_the_script_name_split_f71) {
  // A mismatching script name would fail too: the decoded path is judged first.
  cgi_request request = request_for("/x.php%0a/info");
  request.script_name = "/other.php";
  EXPECT_EQ(build_error(request), errc::unsafe_request_path);
}

TEST(cgi_params, raw_control_characters_space_and_fragment_in_the_target_fail) {
  for (const std::string& target :
       {std::string("/a\nb"), std::string("/a\rb"), std::string("/a\0b", 4), std::string("/a b"),
        std::string("/a\tb"), std::string("/a\x7f"), std::string("/a#frag"),
        std::string("/?a\nb")}) {
    EXPECT_EQ(build_error(request_for(target)), errc::invalid_request_target);
  }
}

TEST(cgi_params, raw_bytes_above_ascii_pass_like_nginx) {
  const cgi_params built = build_ok(request_for("/caf\xC3\xA9"));
  EXPECT_EQ(value_of(built, "SCRIPT_NAME"), "/caf\xC3\xA9");
}

TEST(cgi_params, bad_percent_escapes_in_the_path_fail) {
  for (const char* target : {"/%", "/a%4", "/a%zz", "/%g0", "/%%41", "/a%4?x=1"}) {
    EXPECT_EQ(build_error(request_for(target)), errc::invalid_request_target) << target;
  }
}

TEST(cgi_params, dot_segments_are_removed_after_decoding) {
  cgi_request request = request_for("/a/../b/./c.php/%2e%2e/d?x");
  request.document_root = "/srv";
  request.script_name = "/b/c.php";
  // "/a/../b/./c.php/../d" -> "/b/d" would not match: so check the plain cases first.
  EXPECT_EQ(build_error(request), errc::script_name_mismatch);
  const std::vector<std::pair<std::string, std::string>> cases = {{"/a/../b.php", "/b.php"},
                                                                  {"/a/./b/", "/a/b/"},
                                                                  {"/a/..", "/"},
                                                                  {"/a/.", "/a/"},
                                                                  {"/.", "/"},
                                                                  {"/a//../b", "/a/b"},
                                                                  {"/%2e/x", "/x"},
                                                                  {"/a/%2E%2e/y", "/y"},
                                                                  {"/a/b/../../c", "/c"},
                                                                  {"/.hidden/..x", "/.hidden/..x"}};
  for (const auto& [target, path] : cases) {
    const cgi_params built = build_ok(request_for(target));
    EXPECT_EQ(value_of(built, "DOCUMENT_URI"), path) << target;
    EXPECT_EQ(value_of(built, "REQUEST_URI"), target);  // the target as given
  }
}

TEST(cgi_params, dot_segments_above_the_root_fail) {
  for (const char* target :
       {"/..", "/../etc/passwd", "/%2e%2e/etc/passwd", "/a/../../b", "/a/%2E%2E/%2e%2e/x"}) {
    cgi_request request = request_for(target);
    request.document_root = "/srv";
    EXPECT_EQ(build_error(request), errc::unsafe_request_path) << target;
  }
}

TEST(cgi_params, script_filename_stays_inside_the_root) {
  cgi_request request = request_for("/img/%2e%2e/index.php");
  request.document_root = "/srv";
  EXPECT_EQ(value_of(build_ok(request), "SCRIPT_FILENAME"), "/srv/index.php");
}

TEST(cgi_params, target_must_be_origin_or_absolute_form) {
  for (const char* target :
       {"", "*", "index.php", "example.com/x", "ftp://h/x", "http:/x", "http//x"}) {
    EXPECT_EQ(build_error(request_for(target)), errc::invalid_request_target) << target;
  }
  // "//" alone is origin-form (an empty first segment), not a network path.
  EXPECT_EQ(value_of(build_ok(request_for("//a")), "DOCUMENT_URI"), "//a");
}

// ---------------------------------------------------------------------------------------------
// Absolute-form targets (RFC 9112 §3.2.2)

TEST(cgi_params, absolute_form_sets_server_name_port_and_host) {
  cgi_request request = request_for("http://example.com:8080/a.php/b?q=1");
  request.script_name = "/a.php";
  request.server_name = "ignored";
  request.server_port = "1";
  request.https = true;  // the URL's scheme decides
  const cgi_params built = build_ok(request);
  EXPECT_EQ(value_of(built, "SERVER_NAME"), "example.com");
  EXPECT_EQ(value_of(built, "SERVER_PORT"), "8080");
  EXPECT_EQ(value_of(built, "HTTP_HOST"), "example.com:8080");
  EXPECT_EQ(value_of(built, "HTTPS"), "<absent>");
  EXPECT_EQ(value_of(built, "REQUEST_SCHEME"), "http");
  EXPECT_EQ(value_of(built, "REQUEST_URI"), "/a.php/b?q=1");
  EXPECT_EQ(value_of(built, "SCRIPT_NAME"), "/a.php");
  EXPECT_EQ(value_of(built, "PATH_INFO"), "/b");
  EXPECT_EQ(value_of(built, "QUERY_STRING"), "q=1");
}

TEST(cgi_params, absolute_https_without_port_or_path) {
  const cgi_params built = build_ok(request_for("HTTPS://Example.COM"));
  EXPECT_EQ(value_of(built, "SERVER_NAME"), "Example.COM");
  EXPECT_EQ(value_of(built, "SERVER_PORT"), "443");
  EXPECT_EQ(value_of(built, "HTTPS"), "on");
  EXPECT_EQ(value_of(built, "REQUEST_SCHEME"), "https");
  EXPECT_EQ(value_of(built, "REQUEST_URI"), "/");
  EXPECT_EQ(value_of(built, "HTTP_HOST"), "Example.COM");
}

TEST(cgi_params, absolute_form_query_without_path_and_empty_port) {
  const cgi_params built = build_ok(request_for("http://h:?x=1"));
  EXPECT_EQ(value_of(built, "REQUEST_URI"), "/?x=1");
  EXPECT_EQ(value_of(built, "QUERY_STRING"), "x=1");
  EXPECT_EQ(value_of(built, "SERVER_PORT"), "80");
}

TEST(cgi_params, absolute_form_ipv6_literal) {
  const cgi_params built = build_ok(request_for("http://[::1]:9000/x"));
  EXPECT_EQ(value_of(built, "SERVER_NAME"), "[::1]");
  EXPECT_EQ(value_of(built, "SERVER_PORT"), "9000");
  EXPECT_EQ(value_of(built, "HTTP_HOST"), "[::1]:9000");
  EXPECT_EQ(value_of(build_ok(request_for("https://[2001:db8::1]")), "SERVER_PORT"), "443");
}

TEST(cgi_params, host_header_wins_over_the_url_authority_like_curl) {
  cgi_request request = request_for("http://127.0.0.1:9000/");
  request.headers = {{"Host", "www.example.com"}};
  const cgi_params built = build_ok(request);
  EXPECT_EQ(value_of(built, "HTTP_HOST"), "www.example.com");
  EXPECT_EQ(value_of(built, "SERVER_NAME"), "127.0.0.1");
  expect_unique_names(built);
}

TEST(cgi_params, origin_form_adds_no_host) {
  EXPECT_EQ(value_of(build_ok(request_for("/")), "HTTP_HOST"), "<absent>");
}

TEST(cgi_params, bad_absolute_urls_fail) {
  for (const char* target :
       {"http://", "http:///x", "http://:80/", "http://user:pw@h/", "http://h@/", "http://h:0/",
        "http://h:65536/", "http://h:8o/", "http://h:123456/", "http://[::1/", "http://[]/",
        "http://[::1]x/", "http://[::g]/", "http://h h/", "http://h/%zz", "http://h\\x/"}) {
    EXPECT_EQ(build_error(request_for(target)), errc::invalid_request_target) << target;
  }
  EXPECT_EQ(value_of(build_ok(request_for("http://h:65535/")), "SERVER_PORT"), "65535");
}

TEST(cgi_params, absolute_url_with_unsafe_path_fails) {
  EXPECT_EQ(build_error(request_for("http://h/a%00b")), errc::unsafe_request_path);
  EXPECT_EQ(build_error(request_for("http://h/../x")), errc::unsafe_request_path);
}

// ---------------------------------------------------------------------------------------------
// Method

TEST(cgi_params, method_must_be_a_token) {
  for (const std::string& method : {std::string("GET"), std::string("M-SEARCH"),
                                    std::string("PROPFIND"), std::string("x!#$%&'*+.^_`|~")}) {
    cgi_request request;
    request.method = method;
    EXPECT_EQ(value_of(build_ok(request), "REQUEST_METHOD"), method);
  }
  for (const std::string& method :
       {std::string(""), std::string("GE T"), std::string("GET\r\n"), std::string("G\0T", 3),
        std::string("GET/"), std::string("(GET)"), std::string("G\xC3\xA9T")}) {
    cgi_request request;
    request.method = method;
    EXPECT_EQ(build_error(request), errc::invalid_method) << method;
  }
}

// ---------------------------------------------------------------------------------------------
// CONTENT_LENGTH and CONTENT_TYPE

TEST(cgi_params, content_length_absent_gives_no_param) {
  cgi_request request = request_for("/");
  request.headers = {{"Content-Length", "12"}};  // not the authority: content_length is
  const cgi_params built = build_ok(request);
  EXPECT_EQ(value_of(built, "CONTENT_LENGTH"), "<absent>");
  EXPECT_EQ(value_of(built, "HTTP_CONTENT_LENGTH"), "<absent>");
  EXPECT_EQ(built.dropped_headers, std::vector<std::string>{"Content-Length"});
}

TEST(cgi_params, content_length_present_gives_the_param) {
  cgi_request request = request_for("/");
  request.method = "POST";
  for (const std::uint64_t length :
       {std::uint64_t{0}, std::uint64_t{12345},
        static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())}) {
    request.content_length = length;
    request.headers = {{"content-length", "999"}};
    const cgi_params built = build_ok(request);
    EXPECT_EQ(value_of(built, "CONTENT_LENGTH"), std::to_string(length));
    EXPECT_EQ(value_of(built, "HTTP_CONTENT_LENGTH"), "<absent>");
  }
}

TEST(cgi_params, content_length_at_or_above_two_to_the_63_fails) {
  cgi_request request = request_for("/");
  request.content_length = std::uint64_t{1} << 63U;
  EXPECT_EQ(build_error(request), errc::invalid_content_length);
}

TEST(cgi_params, content_type_header_becomes_content_type) {
  cgi_request request = request_for("/");
  request.headers = {{"content-TYPE", " application/json; charset=utf-8 "}};
  const cgi_params built = build_ok(request);
  EXPECT_EQ(value_of(built, "CONTENT_TYPE"), "application/json; charset=utf-8");
  EXPECT_EQ(value_of(built, "HTTP_CONTENT_TYPE"), "<absent>");
}

TEST(cgi_params, no_content_type_header_no_content_type) {
  EXPECT_EQ(value_of(build_ok(request_for("/")), "CONTENT_TYPE"), "<absent>");
}

// ---------------------------------------------------------------------------------------------
// Headers: HTTP_<NAME>, httpoxy and lookalike names (F-64), repeats

TEST(cgi_params, headers_become_http_params_uppercased_with_underscores) {
  cgi_request request = request_for("/");
  request.headers = {{"Host", "example.com"},
                     {"User-Agent", "curl/7.88.1"},
                     {"x-request-id", "abc"},
                     {"Accept-Encoding", "gzip"},
                     {"DNT", "1"}};
  const cgi_params built = build_ok(request);
  EXPECT_EQ(value_of(built, "HTTP_HOST"), "example.com");
  EXPECT_EQ(value_of(built, "HTTP_USER_AGENT"), "curl/7.88.1");
  EXPECT_EQ(value_of(built, "HTTP_X_REQUEST_ID"), "abc");
  EXPECT_EQ(value_of(built, "HTTP_ACCEPT_ENCODING"), "gzip");
  EXPECT_EQ(value_of(built, "HTTP_DNT"), "1");
  // In the order given, after the CGI variables.
  const std::vector<std::string> names = names_of(built);
  const std::vector<std::string> tail(names.end() - 5, names.end());
  EXPECT_EQ(tail, (std::vector<std::string>{"HTTP_HOST", "HTTP_USER_AGENT", "HTTP_X_REQUEST_ID",
                                            "HTTP_ACCEPT_ENCODING", "HTTP_DNT"}));
}

TEST(cgi_params, header_values_are_trimmed_of_blanks) {
  cgi_request request = request_for("/");
  request.headers = {{"X-A", " \t a b \t "}, {"X-Empty", "   "}};
  const cgi_params built = build_ok(request);
  EXPECT_EQ(value_of(built, "HTTP_X_A"), "a b");
  EXPECT_EQ(value_of(built, "HTTP_X_EMPTY"), "");
}

TEST(cgi_params, proxy_header_is_dropped_httpoxy_f64) {
  cgi_request request = request_for("/");
  request.headers = {{"Proxy", "http://evil.example:8080"},
                     {"pRoXy", "http://evil2.example"},
                     {"Proxy-Authorization", "Basic x"}};
  const cgi_params built = build_ok(request);
  EXPECT_EQ(value_of(built, "HTTP_PROXY"), "<absent>");
  EXPECT_EQ(value_of(built, "HTTP_PROXY_AUTHORIZATION"), "Basic x");  // not httpoxy
  EXPECT_EQ(built.dropped_headers, (std::vector<std::string>{"Proxy", "pRoXy"}));
}

TEST(cgi_params, underscore_header_cannot_pose_as_dash_header_f64) {
  cgi_request request = request_for("/");
  request.headers = {{"X_Forwarded-For", "6.6.6.6"}, {"X-Forwarded-For", "203.0.113.9"}};
  const cgi_params built = build_ok(request);
  EXPECT_EQ(value_of(built, "HTTP_X_FORWARDED_FOR"), "203.0.113.9");
  EXPECT_EQ(built.dropped_headers, std::vector<std::string>{"X_Forwarded-For"});
  expect_unique_names(built);
}

TEST(cgi_params, non_token_and_odd_header_names_are_dropped_f64) {
  cgi_request request = request_for("/");
  request.headers = {{"X.Dot", "1"}, {"X Space", "2"}, {"", "3"},      {"Caf\xC3\xA9", "4"},
                     {"X:Y", "5"},   {"X_U", "6"},     {"X.Dot", "7"}, {"Ok-1", "8"}};
  const cgi_params built = build_ok(request);
  EXPECT_EQ(built.dropped_headers,
            (std::vector<std::string>{"X.Dot", "X Space", "", "Caf\xC3\xA9", "X:Y", "X_U"}));
  EXPECT_EQ(value_of(built, "HTTP_OK_1"), "8");
  for (const cgi_param& p : built.params) {
    if (p.name.starts_with("HTTP_")) {
      EXPECT_EQ(p.name, "HTTP_OK_1");
    }
  }
}

TEST(cgi_params, repeated_headers_are_joined_into_one_param) {
  cgi_request request = request_for("/");
  request.headers = {
      {"Accept", "text/html"}, {"X-Trace", "1"}, {"accept", "application/json"}, {"ACCEPT", "*/*"}};
  const cgi_params built = build_ok(request);
  EXPECT_EQ(value_of(built, "HTTP_ACCEPT"), "text/html, application/json, */*");
  expect_unique_names(built);
  // At the place of the first occurrence.
  const std::vector<std::string> names = names_of(built);
  EXPECT_EQ(names[names.size() - 2], "HTTP_ACCEPT");
  EXPECT_EQ(names.back(), "HTTP_X_TRACE");
}

TEST(cgi_params, repeated_cookies_are_joined_with_semicolons) {
  cgi_request request = request_for("/");
  request.headers = {{"Cookie", "a=1"}, {"cookie", "b=2; c=3"}};
  const cgi_params built = build_ok(request);
  EXPECT_EQ(value_of(built, "HTTP_COOKIE"), "a=1; b=2; c=3");
  expect_unique_names(built);
}

TEST(cgi_params, empty_repeats_add_no_separator) {
  cgi_request request = request_for("/");
  request.headers = {{"X-A", ""}, {"X-A", "v"}, {"X-A", ""}, {"X-A", "w"}};
  EXPECT_EQ(value_of(build_ok(request), "HTTP_X_A"), "v, w");
}

TEST(cgi_params, repeated_host_or_content_type_fails) {
  cgi_request request = request_for("/");
  request.headers = {{"Host", "a"}, {"host", "b"}};
  EXPECT_EQ(build_error(request), errc::duplicate_request_header);
  request.headers = {{"Content-Type", "text/plain"}, {"Content-Type", "text/html"}};
  EXPECT_EQ(build_error(request), errc::duplicate_request_header);
}

TEST(cgi_params, cr_lf_or_nul_in_a_header_value_fails) {
  for (const std::string& value : {std::string("a\r\nX-Injected: 1"), std::string("a\nb"),
                                   std::string("a\rb"), std::string("a\0b", 3)}) {
    cgi_request request = request_for("/");
    request.headers = {{"X-A", value}};
    EXPECT_EQ(build_error(request), errc::invalid_header_value);
    request.headers = {{"X_Dropped", value}};  // even on a header that would be dropped
    EXPECT_EQ(build_error(request), errc::invalid_header_value);
  }
}

TEST(cgi_params, other_control_bytes_and_high_bytes_in_values_pass) {
  cgi_request request = request_for("/");
  request.headers = {{"X-A", "tab\there \x01 caf\xC3\xA9"}};
  EXPECT_EQ(value_of(build_ok(request), "HTTP_X_A"), "tab\there \x01 caf\xC3\xA9");
}

// ---------------------------------------------------------------------------------------------
// extra

TEST(cgi_params, extra_overrides_in_place_and_appends_new_names) {
  cgi_request request = request_for("/x");
  request.headers = {{"X-A", "from header"}};
  request.extra = {{"SERVER_SOFTWARE", "custom/1.0"},
                   {"APP_ENV", "test"},
                   {"HTTP_X_A", "overridden"},
                   {"APP_ENV", "prod"}};
  const cgi_params built = build_ok(request);
  expect_unique_names(built);
  EXPECT_EQ(value_of(built, "SERVER_SOFTWARE"), "custom/1.0");
  EXPECT_EQ(value_of(built, "HTTP_X_A"), "overridden");
  EXPECT_EQ(value_of(built, "APP_ENV"), "prod");
  const std::vector<std::string> names = names_of(built);
  EXPECT_EQ(names[1], "SERVER_SOFTWARE");  // kept its place
  EXPECT_EQ(names.back(), "APP_ENV");
}

TEST(cgi_params, extra_may_carry_nul_in_values_but_not_in_names) {
  cgi_request request = request_for("/");
  request.extra = {{"V", std::string("a\0b", 3)}};
  EXPECT_EQ(value_of(build_ok(request), "V"), std::string("a\0b", 3));
  request.extra = {{std::string("N\0", 2), "v"}};
  EXPECT_EQ(build_error(request), errc::nul_in_param_name);
  request.extra = {{"", "v"}};
  EXPECT_EQ(build_error(request), errc::empty_param_name);
}

// ---------------------------------------------------------------------------------------------
// What the params look like on the wire

TEST(cgi_params, views_match_the_params) {
  cgi_request request = request_for("/a?b");
  request.headers = {{"X-A", "1"}};
  const cgi_params built = build_ok(request);
  const std::vector<param> views = built.views();
  ASSERT_EQ(views.size(), built.params.size());
  for (std::size_t i = 0; i < views.size(); ++i) {
    EXPECT_EQ(views[i].name, built.params[i].name);
    EXPECT_EQ(views[i].value, built.params[i].value);
    EXPECT_EQ(views[i].name.data(), built.params[i].name.data());  // views, not copies
  }
}

TEST(cgi_params, encoded_size_counts_the_pair_bytes) {
  cgi_request request = request_for("/");
  request.headers = {{"X-Long", std::string(200, 'v')}};
  const cgi_params built = build_ok(request);
  std::size_t expected = 0;
  for (const cgi_param& p : built.params) {
    expected += fcgi_test::raw_pair(p.name, p.value).size();  // independent §3.4 encoder
  }
  EXPECT_EQ(built.encoded_size(), expected);
}

TEST(cgi_params, a_full_request_passes_the_application_side_params_policy) {
  cgi_request request = request_for("/index.php/p?a=1");
  request.method = "POST";
  request.script_name = "/index.php";
  request.document_root = "/var/www";
  request.content_length = 5;
  request.remote_port = "4000";
  request.https = true;
  request.headers = {{"Host", "h"},          {"Content-Type", "text/plain"},
                     {"Cookie", "a=1"},      {"Cookie", "b=2"},
                     {"Proxy", "x"},         {"X_Y", "z"},
                     {"Content-Length", "5"}};
  request.extra = {{"SCRIPT_FILENAME", "/var/www/index.php"}};
  const cgi_params built = build_ok(request);
  fcgi_test::byte_vector stream;
  for (const cgi_param& p : built.params)
    fcgi_test::append(stream, fcgi_test::raw_pair(p.name, p.value));
  params_scanner scanner;
  EXPECT_EQ(scanner.scan(stream, params_policy{}), errc{});
  EXPECT_EQ(scanner.finish(stream), errc{});
  EXPECT_EQ(scanner.count(), built.params.size());
  EXPECT_EQ(scanner.content_length(), 5U);
}

}  // namespace
}  // namespace fcgi::protocol
