// Proves <fcgi/pm/status.hpp> compiles on its own: it is included first and alone.
#include <fcgi/pm/status.hpp>
