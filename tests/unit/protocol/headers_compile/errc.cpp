// Proves <fcgi/protocol/errc.hpp> compiles on its own: it is included first and alone.
#include <fcgi/protocol/errc.hpp>
