// Proves <fcgi/protocol/client_connection.hpp> compiles on its own: it is included first and alone.
#include <fcgi/protocol/client_connection.hpp>
