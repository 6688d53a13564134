// Proves <fcgi/pm/listen_queue.hpp> compiles on its own: it is included first and alone.
#include <fcgi/pm/listen_queue.hpp>
