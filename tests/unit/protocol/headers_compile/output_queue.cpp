// Proves <fcgi/protocol/output_queue.hpp> compiles on its own: it is included first and alone.
#include <fcgi/protocol/output_queue.hpp>
