// Proves <fcgi/protocol/response_head.hpp> compiles on its own: it is included first and alone.
#include <fcgi/protocol/response_head.hpp>
