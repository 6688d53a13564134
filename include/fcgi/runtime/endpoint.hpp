// Where a FastCGI application listens and how it finds the socket it was given.
//
// Endpoints are written `unix:PATH`, `tcp:HOST:PORT`, `tcp:[IPV6]:PORT` or `tcp:PORT` (all
// addresses). Errors are thrown as std::system_error / std::invalid_argument whose message
// names the endpoint and the fix; these run once at start-up, never per request.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fcgi::runtime {

struct endpoint {
  enum class kind : std::uint8_t { unix_socket, tcp };
  kind type = kind::unix_socket;
  std::string path;  ///< unix_socket
  std::string host;  ///< tcp: numeric or name; empty = all addresses
  std::uint16_t port = 0;

  /// The text form that parse_endpoint reads back.
  [[nodiscard]] std::string to_string() const;
};

/// Parses an endpoint; throws std::invalid_argument with the accepted forms on error.
endpoint parse_endpoint(std::string_view text);

struct listen_options {
  int backlog = 1024;
  std::optional<mode_t> mode;  ///< unix: chmod the socket (e.g. 0660)
  std::optional<uid_t> owner;  ///< unix: chown the socket
  std::optional<gid_t> group;
};

/// Opens a listening, close-on-exec socket. A unix socket path left by a dead process (nobody
/// accepts on it) is replaced; one that a live process serves is an error.
int open_listener(const endpoint& where, const listen_options& options = {});

/// True when `fd` is a socket in the listening state (SO_ACCEPTCONN), as fd 0 is when a web
/// server, spawn-fcgi or fcgi-pm starts a FastCGI application (the FastCGI convention).
bool is_listening_socket(int fd) noexcept;

/// The sockets passed by systemd socket activation (LISTEN_PID = this process, LISTEN_FDS = n,
/// fds 3..3+n-1), made close-on-exec. Unsets the variables so children do not inherit them.
std::vector<int> take_systemd_listeners();

/// The peer address of an accepted socket as text ("127.0.0.1", "::1"), empty for unix peers.
std::string peer_address(int fd);

/// FCGI_WEB_SERVER_ADDRS (spec 3.2): a comma-separated list of IPv4/IPv6 addresses allowed to
/// connect over TCP. Empty means everyone. IPv4-mapped IPv6 peers match their IPv4 entry.
class address_allowlist {
 public:
  address_allowlist() = default;
  /// Throws std::invalid_argument naming the entry that is not a numeric address.
  explicit address_allowlist(std::string_view comma_separated);
  /// From the environment variable FCGI_WEB_SERVER_ADDRS (unset = allow all).
  static address_allowlist from_environment();

  [[nodiscard]] bool empty() const noexcept { return entries_.empty(); }
  /// True when the list is empty or `address` (textual, as peer_address returns) is in it. An
  /// empty address (a unix-socket peer) is refused by a non-empty list, as spec 3.2 requires.
  [[nodiscard]] bool allows(std::string_view address) const;

 private:
  std::vector<std::string> entries_;  ///< canonical text of each address
};

}  // namespace fcgi::runtime
