// Proves the umbrella header <fcgi/protocol.hpp> compiles on its own: it is included first and
// alone.
#include <fcgi/protocol.hpp>
