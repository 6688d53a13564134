// fcgikit_bench: the fcgikit side of the end-to-end benchmarks (bench/run). Every benchmark app
// answers the same three routes, matched on the end of the request path:
//   .../hello  `Content-Type: text/plain`, `Content-Length: 14`, body "Hello, world!\n"
//   .../big    a 1 MiB body (`?mib=N`: N MiB)
//   .../post   reads the whole request body and answers its byte count and "\n"
// It serves fd 0 (shared by several processes), systemd sockets or `--listen`, with
// `--threads N`, as every fcgikit app does.
//
// `--async` serves the same routes with coroutine handlers: /post then counts the body as it
// streams in and /big sends with backpressure, so memory stays flat for bodies of any size
// (the plain handlers run once the whole body is held, and queue their whole output).
#include <fcgi/server/async.hpp>
#include <fcgi/server/server.hpp>

#include <charconv>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace {

constexpr std::size_t mib = 1024 * 1024;
constexpr std::string_view hello_body = "Hello, world!\n";
constexpr std::string_view plain_text = "text/plain";
constexpr std::string_view octet_stream = "application/octet-stream";

enum class route { hello, big, post, unknown };

route route_of(const fcgi::request& req) {
  const std::string path = req.path();
  const std::string_view p = path;
  if (p.ends_with("/hello")) return route::hello;
  if (p.ends_with("/big")) return route::big;
  if (p.ends_with("/post")) return route::post;
  return route::unknown;
}

std::uint64_t big_size(const fcgi::request& req) {
  std::uint64_t count = 1;
  if (const auto text = req.query("mib")) {
    std::from_chars(text->data(), text->data() + text->size(), count);
  }
  return count * mib;
}

const std::string& one_mib() {
  static const std::string block(mib, 'x');
  return block;
}

void not_found(fcgi::response& res) {
  res.status(404, "Not Found").header("Content-Type", plain_text).write("no such route\n");
}

void serve(fcgi::request& req, fcgi::response& res) {
  switch (route_of(req)) {
    case route::hello:
      res.header("Content-Type", plain_text).header("Content-Length", "14").write(hello_body);
      return;
    case route::big: {
      const std::uint64_t size = big_size(req);
      res.header("Content-Type", octet_stream).header("Content-Length", std::to_string(size));
      for (std::uint64_t sent = 0; sent < size; sent += mib) {
        if (!res.write(one_mib())) return;
      }
      return;
    }
    case route::post: {
      const std::string count = std::to_string(req.body().size()) + "\n";
      res.header("Content-Type", plain_text).header("Content-Length", std::to_string(count.size()));
      res.write(count);
      return;
    }
    case route::unknown: not_found(res); return;
  }
}

boost::asio::awaitable<void> serve_async(fcgi::async_request& req, fcgi::async_response& res) {
  switch (route_of(req)) {
    case route::hello:
      res.header("Content-Type", plain_text).header("Content-Length", "14");
      co_await res.send(hello_body);
      co_return;
    case route::big: {
      const std::uint64_t size = big_size(req);
      res.header("Content-Type", octet_stream).header("Content-Length", std::to_string(size));
      for (std::uint64_t sent = 0; sent < size; sent += mib) {
        if (!co_await res.send(one_mib())) co_return;
      }
      co_return;
    }
    case route::post: {
      std::uint64_t length = 0;
      for (;;) {
        const std::string_view chunk = co_await req.read_some();
        if (chunk.empty()) break;
        length += chunk.size();
      }
      const std::string count = std::to_string(length) + "\n";
      res.header("Content-Type", plain_text).header("Content-Length", std::to_string(count.size()));
      co_await res.send(count);
      co_return;
    }
    case route::unknown: not_found(res); co_return;
  }
}

}  // namespace

int main(int argc, char** argv) {
  // `--async` is ours; every other argument is the runtime's (server_config::from_args).
  std::vector<char*> args;
  bool coroutines = false;
  for (int i = 0; i < argc; ++i) {
    if (std::strcmp(argv[i], "--async") == 0) {
      coroutines = true;
    } else {
      args.push_back(argv[i]);
    }
  }
  fcgi::server_config config =
      fcgi::server_config::from_args(static_cast<int>(args.size()), args.data());
  if (coroutines) config.max_body_bytes = SIZE_MAX;  // the body streams through, never held
  fcgi::server app(config);
  if (coroutines) {
    fcgi::async_responder(app, serve_async);
  } else {
    app.responder(serve);
  }
  return app.run();
}
