// Uses an installed fcgikit: the umbrella header must be complete and the library must link.
#include <fcgi/protocol.hpp>

#include <array>
#include <cstddef>
#include <cstdio>

namespace {

namespace protocol = fcgi::protocol;

// §5.1: FCGI_BEGIN_REQUEST for request 1, Responder, FCGI_KEEP_CONN.
constexpr std::array<unsigned char, 16> expected_begin_request = {
    1, 1, 0, 1, 0, 8, 0, 0,  // version 1, type 1, requestId 1, contentLength 8, no padding
    0, 1, 1, 0, 0, 0, 0, 0,  // role 1, flags KEEP_CONN, reserved
};

bool begin_request_encodes_as_the_spec_says() {
  const protocol::fixed_record record =
      protocol::make_begin_request(1, protocol::role::responder, true);
  for (std::size_t i = 0; i < record.size(); ++i) {
    if (record[i] != std::byte{expected_begin_request[i]}) {
      std::fprintf(stderr, "BEGIN_REQUEST byte %zu: got %u, expected %u\n", i,
                   std::to_integer<unsigned>(record[i]), unsigned{expected_begin_request[i]});
      return false;
    }
  }
  return true;
}

bool header_decodes_back() {
  const protocol::fixed_record record =
      protocol::make_begin_request(7, protocol::role::filter, false);
  protocol::record_header header;
  protocol::begin_request_body body;
  const bool ok = protocol::decode_header(record, header) == protocol::header_size &&
                  header.is(protocol::record_type::begin_request) && header.request_id == 7 &&
                  protocol::decode_begin_request_body(
                      protocol::bytes_view(record).subspan(protocol::header_size), body) &&
                  body.role == 3 && !body.keep_conn();
  if (!ok) std::fprintf(stderr, "BEGIN_REQUEST for request 7 did not decode back\n");
  return ok;
}

}  // namespace

int main() {
  const bool ok = begin_request_encodes_as_the_spec_says() && header_decodes_back();
  std::puts(ok ? "fcgikit package: ok" : "fcgikit package: FAILED");
  return ok ? 0 : 1;
}
