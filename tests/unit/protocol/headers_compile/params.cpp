// Proves <fcgi/protocol/params.hpp> compiles on its own: it is included first and alone.
#include <fcgi/protocol/params.hpp>
