// Proves <fcgi/protocol/record.hpp> compiles on its own: it is included first and alone.
#include <fcgi/protocol/record.hpp>
