// Proves <fcgi/pm/health.hpp> compiles on its own: it is included first and alone.
#include <fcgi/pm/health.hpp>
