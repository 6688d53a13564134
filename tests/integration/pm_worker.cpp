// A worker for fcgi-pm's tests, linked statically so that it also runs inside an empty chroot.
//   pm_worker pause                  waits for a signal (the test reads its /proc entries)
//   pm_worker misbehave LOCK APP     the first worker to create LOCK opens 1,500 fds, makes the
//                                    shared listening socket (fd 0) non-blocking and waits
//                                    (HOSTILE E-62); the others exec APP to serve requests
//   pm_worker grow LOCK MIB          the first worker to create LOCK fills MIB MiB of memory,
//                                    the others stay small; all wait for a signal
#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

// The memory escapes through it, so the compiler cannot drop the allocation.
char* volatile grown = nullptr;  // NOLINT(cppcoreguidelines-avoid-non-const-global-variables)

int main(int argc, char** argv) {
  if (argc >= 2 && std::strcmp(argv[1], "pause") == 0) {
    for (;;) ::pause();
  }
  if (argc >= 4 && std::strcmp(argv[1], "misbehave") == 0) {
    const int lock = ::open(argv[2], O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);  // NOLINT
    if (lock < 0) {
      ::execv(argv[3], argv + 3);  // NOLINT(cppcoreguidelines-pro-bounds-pointer-arithmetic)
      return 127;
    }
    for (int i = 0; i < 1500; ++i) ::open("/dev/null", O_RDONLY);  // NOLINT
    ::fcntl(0, F_SETFL, ::fcntl(0, F_GETFL) | O_NONBLOCK);         // NOLINT
    for (;;) ::pause();
  }
  if (argc >= 4 && std::strcmp(argv[1], "grow") == 0) {
    const int lock = ::open(argv[2], O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);  // NOLINT
    if (lock >= 0) {
      const std::size_t bytes = std::strtoul(argv[3], nullptr, 10) << 20;  // NOLINT
      auto* memory = static_cast<char*>(std::malloc(bytes));               // NOLINT
      if (memory != nullptr) std::memset(memory, 1, bytes);
      grown = memory;
    }
    for (;;) ::pause();
  }
  return 2;
}
