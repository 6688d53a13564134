// A worker for fcgi-pm's tests, linked statically so that it also runs inside an empty chroot.
//   pm_worker pause                  waits for a signal (the test reads its /proc entries)
//   pm_worker misbehave LOCK APP     the first worker to create LOCK opens 1,500 fds, makes the
//                                    shared listening socket (fd 0) non-blocking and waits
//                                    (HOSTILE E-62); the others exec APP to serve requests
//   pm_worker grow LOCK MIB          the first worker to create LOCK fills MIB MiB of memory,
//                                    the others stay small; all wait for a signal
//   pm_worker scribble LOCK KIND APP the first worker to create LOCK maps its scoreboard (fd 3)
//                                    and writes garbage of KIND into it (HOSTILE E-60): magic
//                                    (a bad magic), sequence (a slot stuck mid-write), threads
//                                    (a huge thread count); then waits. The others exec APP.
//   pm_worker foreign APP ARGS...    execs APP without FCGI_PM_SCOREBOARD, as a libfcgi or Go
//                                    app would ignore it: the manager sees no scoreboard
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>

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
  if (argc >= 3 && std::strcmp(argv[1], "foreign") == 0) {
    ::unsetenv("FCGI_PM_SCOREBOARD");
    ::execv(argv[2], argv + 2);  // NOLINT(cppcoreguidelines-pro-bounds-pointer-arithmetic)
    return 127;
  }
  if (argc >= 5 && std::strcmp(argv[1], "scribble") == 0) {
    const int lock = ::open(argv[2], O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);  // NOLINT
    if (lock < 0) {
      ::execv(argv[4], argv + 4);  // NOLINT(cppcoreguidelines-pro-bounds-pointer-arithmetic)
      return 127;
    }
    // The scoreboard's version 1 layout: a header of 32 words (magic, version, thread count,
    // pid, counters, time), then one slot per thread starting with its sequence.
    void* map = ::mmap(nullptr, 16384, PROT_READ | PROT_WRITE, MAP_SHARED, 3, 0);
    if (map == MAP_FAILED) return 3;
    auto* words = static_cast<volatile std::uint64_t*>(map);
    const char* kind = argv[3];  // NOLINT(cppcoreguidelines-pro-bounds-pointer-arithmetic)
    // NOLINTBEGIN(cppcoreguidelines-pro-bounds-pointer-arithmetic)
    words[1] = 1;
    words[2] = 1;
    words[3] = static_cast<std::uint64_t>(::getpid());
    if (std::strcmp(kind, "sequence") == 0) words[32] = 7;  // odd: forever being written
    if (std::strcmp(kind, "threads") == 0) words[2] = std::uint64_t{1} << 40U;
    words[0] = std::strcmp(kind, "magic") == 0 ? 0xdeadbeefdeadbeefULL : 0x4d504346ULL;
    // NOLINTEND(cppcoreguidelines-pro-bounds-pointer-arithmetic)
    for (;;) ::pause();
  }
  return 2;
}
