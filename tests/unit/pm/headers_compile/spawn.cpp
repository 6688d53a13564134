// Proves <fcgi/pm/spawn.hpp> compiles on its own: it is included first and alone.
#include <fcgi/pm/spawn.hpp>
