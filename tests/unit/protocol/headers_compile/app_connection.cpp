// Proves <fcgi/protocol/app_connection.hpp> compiles on its own: it is included first and alone.
#include <fcgi/protocol/app_connection.hpp>
