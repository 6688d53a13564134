// cgi_status_scanner: the status of a CGI response from its head, fed whole, at every split
// and one byte at a time.
#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "status.hpp"

namespace fcgi::bench {
namespace {

/// The status when `stdout_bytes` is fed in two parts split at `split`.
unsigned status_split(std::string_view stdout_bytes, std::size_t split) {
  cgi_status_scanner scanner;
  scanner.feed(stdout_bytes.substr(0, split));
  scanner.feed(stdout_bytes.substr(split));
  return scanner.status();
}

/// The status fed whole, and checked to be the same at every split and byte by byte.
unsigned status_of(std::string_view stdout_bytes) {
  const unsigned whole = status_split(stdout_bytes, stdout_bytes.size());
  for (std::size_t split = 0; split <= stdout_bytes.size(); ++split)
    EXPECT_EQ(status_split(stdout_bytes, split), whole) << "split at " << split;
  cgi_status_scanner bytewise;
  for (const char c : stdout_bytes) bytewise.feed(std::string_view(&c, 1));
  EXPECT_EQ(bytewise.status(), whole) << "one byte at a time";
  return whole;
}

TEST(status, document_without_status_is_200) {
  EXPECT_EQ(status_of("Content-Type: text/plain\r\nContent-Length: 14\r\n\r\nHello, world!\n"),
            200U);
}

TEST(status, status_field_gives_the_code) {
  EXPECT_EQ(status_of("Status: 404 Not Found\r\nContent-Type: text/html\r\n\r\nnope"), 404U);
  EXPECT_EQ(status_of("content-type: text/plain\nstatus: 503\n\n"), 503U);
  EXPECT_EQ(status_of("STATUS:\t201 Created\r\n\r\n"), 201U);
}

TEST(status, location_without_status_is_a_redirect_rfc3875_6_2) {
  EXPECT_EQ(status_of("Location: https://example.com/\r\n\r\n"), 302U);
  EXPECT_EQ(status_of("Location: /elsewhere\r\n\r\n"), 200U);  // local redirect
  EXPECT_EQ(status_of("Status: 301 Moved\r\nLocation: https://example.com/\r\n\r\n"), 301U);
}

TEST(status, body_after_the_head_is_not_read) {
  EXPECT_EQ(status_of("Content-Type: text/plain\r\n\r\nStatus: 500\r\n\r\n"), 200U);
}

TEST(status, head_without_blank_line_is_invalid) {
  EXPECT_EQ(status_of("Content-Type: text/plain\r\n"), 0U);
  EXPECT_EQ(status_of(""), 0U);
  EXPECT_EQ(status_of("Hello, world!"), 0U);
}

TEST(status, bad_status_is_invalid) {
  EXPECT_EQ(status_of("Status: 40\r\n\r\n"), 0U);
  EXPECT_EQ(status_of("Status: 600\r\n\r\n"), 0U);
  EXPECT_EQ(status_of("Status: 099\r\n\r\n"), 0U);
  EXPECT_EQ(status_of("Status: 2000\r\n\r\n"), 0U);
  EXPECT_EQ(status_of("Status: OK\r\n\r\n"), 0U);
}

TEST(status, long_lines_are_fine_and_a_huge_head_is_invalid) {
  const std::string long_value(5000, 'x');
  EXPECT_EQ(status_of("X-Long: " + long_value + "\r\nStatus: 418 I'm a teapot, a long reason " +
                      long_value + "\r\n\r\n"),
            418U);
  cgi_status_scanner scanner;
  const std::string line = "X-Filler: " + std::string(1000, 'y') + "\r\n";
  for (std::size_t sent = 0; sent <= cgi_status_scanner::max_head_bytes; sent += line.size())
    scanner.feed(line);
  scanner.feed("\r\n");
  EXPECT_EQ(scanner.status(), 0U);
}

TEST(status, reset_starts_a_new_response) {
  cgi_status_scanner scanner;
  scanner.feed("Status: 500\r\n\r\n");
  EXPECT_EQ(scanner.status(), 500U);
  scanner.reset();
  EXPECT_EQ(scanner.status(), 0U);
  scanner.feed("\r\n");
  EXPECT_EQ(scanner.status(), 200U);
}

}  // namespace
}  // namespace fcgi::bench
