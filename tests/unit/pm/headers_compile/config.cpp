// Proves <fcgi/pm/config.hpp> compiles on its own: it is included first and alone.
#include <fcgi/pm/config.hpp>
