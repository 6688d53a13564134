/* pattern N: writes exactly N bytes to stdout, byte i being i % 251 — the body that the echo
 * example answers to `?size=N`. A prime period catches shifted, dropped and repeated blocks
 * that a power-of-two period would hide. */
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char** argv) {
  if (argc != 2) {
    fputs("usage: pattern N\n", stderr);
    return 2;
  }
  unsigned long long remaining = strtoull(argv[1], NULL, 10);
  /* 251 * 261 bytes: the block restarts at 0 exactly where the pattern does. */
  static unsigned char block[251 * 261];
  for (size_t i = 0; i < sizeof block; ++i) block[i] = (unsigned char)(i % 251);
  while (remaining > 0) {
    size_t n = remaining < sizeof block ? (size_t)remaining : sizeof block;
    if (fwrite(block, 1, n, stdout) != n) return 1;
    remaining -= n;
  }
  return fflush(stdout) == 0 ? 0 : 1;
}
