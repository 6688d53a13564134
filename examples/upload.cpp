// upload: streams a request body of any size into a checksum without buffering it, and
// answers its length and FNV-1a 64-bit hash: `bytes=N fnv1a64=HEX`.
#include <fcgi/server/async.hpp>

#include <cstdint>
#include <cstdio>
#include <string>

int main(int argc, char** argv) {
  fcgi::server_config config = fcgi::server_config::from_args(argc, argv);
  config.max_body_bytes = SIZE_MAX;  // nothing is held: the body streams through
  fcgi::server app(config);
  fcgi::async_responder(
      app, [](fcgi::async_request& req, fcgi::async_response& res) -> boost::asio::awaitable<void> {
        std::uint64_t length = 0;
        std::uint64_t hash = 0xcbf29ce484222325ULL;
        for (;;) {
          const std::string_view chunk = co_await req.read_some();
          if (chunk.empty()) break;
          length += chunk.size();
          for (const char c : chunk) {
            hash = (hash ^ static_cast<unsigned char>(c)) * 0x100000001b3ULL;
          }
        }
        char hex[17];  // NOLINT(modernize-avoid-c-arrays)
        std::snprintf(hex, sizeof(hex), "%016llx", static_cast<unsigned long long>(hash));
        res.header("Content-Type", "text/plain");
        co_await res.send("bytes=" + std::to_string(length) + " fnv1a64=" + hex + "\n");
      });
  return app.run();
}
