#include <fcgi/client/request.hpp>

namespace fcgi::client {

protocol::result<request> http_request(const protocol::cgi_request& http, body_source body) {
  protocol::result<protocol::cgi_params> built = protocol::build_cgi_params(http);
  if (!built) return built.error();
  request r;
  r.params.reserve(built.value().params.size());
  for (const protocol::cgi_param& p : built.value().params) r.params.emplace_back(p.name, p.value);
  r.body = std::move(body);
  return r;
}

protocol::result<parsed_response> parse_response(const response& r,
                                                 const protocol::response_head_settings& limits) {
  protocol::response_head_parser parser(limits);
  const protocol::head_progress progress = parser.feed(std::string_view(r.out));
  if (progress.state == protocol::head_state::failed) return progress.error;
  if (progress.state == protocol::head_state::need_more) return parser.finish();
  return parsed_response{parser.take_head(), std::string_view(r.out).substr(progress.consumed)};
}

}  // namespace fcgi::client
