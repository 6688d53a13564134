// Proves <fcgi/pm/log.hpp> compiles on its own: it is included first and alone.
#include <fcgi/pm/log.hpp>
