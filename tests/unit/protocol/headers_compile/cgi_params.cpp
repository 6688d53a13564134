// Proves <fcgi/protocol/cgi_params.hpp> compiles on its own: it is included first and alone.
#include <fcgi/protocol/cgi_params.hpp>
