// Proves <fcgi/pm/supervisor.hpp> compiles on its own: it is included first and alone.
#include <fcgi/pm/supervisor.hpp>
