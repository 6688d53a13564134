// Proves <fcgi/pm/backoff.hpp> compiles on its own: it is included first and alone.
#include <fcgi/pm/backoff.hpp>
