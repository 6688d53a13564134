// Proves <fcgi/protocol/record_reader.hpp> compiles on its own: it is included first and alone.
#include <fcgi/protocol/record_reader.hpp>
