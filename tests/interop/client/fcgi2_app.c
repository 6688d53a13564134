/* fcgi2_app: the interop test's application on Debian's libfcgi (fcgi2), serving the
 * listening socket it inherits on fd 0, one request at a time (FCGX_Accept_r).
 *   ?op=hello     -> "hello from fcgi2\n"
 *   ?op=count     -> the byte count of the request body and "\n"
 *   ?op=size&n=N  -> N bytes of the block "0123456789abcde\n" repeated, cut at N */
#include <fcgiapp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char block[] = "0123456789abcde\n";

static unsigned long long size_from(const char* query) {
  const char* n = strstr(query, "n=");
  return n ? strtoull(n + 2, NULL, 10) : 0;
}

static void answer(FCGX_Request* request) {
  const char* query = FCGX_GetParam("QUERY_STRING", request->envp);
  if (!query) query = "";
  FCGX_PutS("Content-Type: text/plain\r\n\r\n", request->out);
  if (strstr(query, "op=count")) {
    static char buffer[64 * 1024];
    unsigned long long total = 0;
    int got;
    while ((got = FCGX_GetStr(buffer, sizeof buffer, request->in)) > 0) total += (unsigned)got;
    FCGX_FPrintF(request->out, "%llu\n", total);
  } else if (strstr(query, "op=size")) {
    /* 4096 copies of the 16-byte block: 64 KiB per write, the pattern stays aligned. */
    static char chunk[64 * 1024];
    for (size_t i = 0; i < sizeof chunk; ++i) chunk[i] = block[i % 16];
    unsigned long long remaining = size_from(query);
    while (remaining > 0) {
      const size_t n = remaining < sizeof chunk ? (size_t)remaining : sizeof chunk;
      if (FCGX_PutStr(chunk, (int)n, request->out) < 0) return;
      remaining -= n;
    }
  } else {
    FCGX_PutS("hello from fcgi2\n", request->out);
  }
}

int main(void) {
  if (FCGX_Init() != 0) return 1;
  FCGX_Request request;
  if (FCGX_InitRequest(&request, 0, 0) != 0) return 1;
  while (FCGX_Accept_r(&request) >= 0) {
    answer(&request);
    FCGX_Finish_r(&request);
  }
  return 0;
}
