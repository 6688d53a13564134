/* fcgi2_bench: the fcgi2 (libfcgi, Debian's libfcgi-dev) anchor of the end-to-end benchmarks
 * (bench/run). Same routes as bench/apps/fcgikit_bench.cpp, matched on the end of the path:
 *   .../hello  `Content-Type: text/plain`, `Content-Length: 14`, body "Hello, world!\n"
 *   .../big    a 1 MiB body (`?mib=N`: N MiB)
 *   .../post   reads the whole request body and answers its byte count and "\n"
 * Written as a libfcgi application usually is: one request at a time with FCGX_Accept_r, many
 * processes sharing the listening socket on fd 0 for concurrency. `--listen unix:PATH` or
 * `--listen tcp:HOST:PORT` opens its own socket instead. SIGTERM ends it cleanly (so that
 * valgrind writes its profile). */
#include <fcgiapp.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { mib = 1024 * 1024 };

static char big_block[mib];

static int ends_with(const char* text, size_t length, const char* suffix) {
  const size_t n = strlen(suffix);
  return length >= n && memcmp(text + length - n, suffix, n) == 0;
}

/* The path: REQUEST_URI without its query, else SCRIPT_NAME. */
static size_t path_length(const char* uri) {
  const char* query = strchr(uri, '?');
  return query ? (size_t)(query - uri) : strlen(uri);
}

static unsigned long long big_size(FCGX_ParamArray env) {
  const char* query = FCGX_GetParam("QUERY_STRING", env);
  const char* found = query ? strstr(query, "mib=") : NULL;
  unsigned long long count = found ? strtoull(found + 4, NULL, 10) : 1;
  return count * mib;
}

static void serve_big(FCGX_Request* r) {
  const unsigned long long size = big_size(r->envp);
  FCGX_FPrintF(r->out, "Content-Type: application/octet-stream\r\nContent-Length: %llu\r\n\r\n",
               size);
  for (unsigned long long sent = 0; sent < size; sent += mib) {
    if (FCGX_PutStr(big_block, mib, r->out) < 0) return;
  }
}

static void serve_post(FCGX_Request* r) {
  static char buffer[64 * 1024];
  unsigned long long length = 0;
  int n;
  while ((n = FCGX_GetStr(buffer, (int)sizeof(buffer), r->in)) > 0) length += (unsigned)n;
  char count[32];
  const int size = snprintf(count, sizeof(count), "%llu\n", length);
  FCGX_FPrintF(r->out, "Content-Type: text/plain\r\nContent-Length: %d\r\n\r\n", size);
  FCGX_PutStr(count, size, r->out);
}

static void serve(FCGX_Request* r) {
  const char* uri = FCGX_GetParam("REQUEST_URI", r->envp);
  if (uri == NULL) uri = FCGX_GetParam("SCRIPT_NAME", r->envp);
  if (uri == NULL) uri = "";
  const size_t length = path_length(uri);
  if (ends_with(uri, length, "/hello")) {
    static const char hello[] =
        "Content-Type: text/plain\r\nContent-Length: 14\r\n\r\nHello, world!\n";
    FCGX_PutStr(hello, (int)sizeof(hello) - 1, r->out);
  } else if (ends_with(uri, length, "/big")) {
    serve_big(r);
  } else if (ends_with(uri, length, "/post")) {
    serve_post(r);
  } else {
    FCGX_PutS("Status: 404 Not Found\r\nContent-Type: text/plain\r\n\r\nno such route\n", r->out);
  }
}

static void on_terminate(int signal) {
  (void)signal;
  FCGX_ShutdownPending();
}

/* unix:PATH and tcp:HOST:PORT in fcgikit's spelling; FCGX_OpenSocket takes PATH or HOST:PORT. */
static int open_listener(const char* endpoint) {
  if (strncmp(endpoint, "unix:", 5) == 0) return FCGX_OpenSocket(endpoint + 5, 1024);
  if (strncmp(endpoint, "tcp:", 4) == 0) return FCGX_OpenSocket(endpoint + 4, 1024);
  return FCGX_OpenSocket(endpoint, 1024);
}

int main(int argc, char** argv) {
  int listener = 0;
  if (argc == 3 && strcmp(argv[1], "--listen") == 0) {
    listener = open_listener(argv[2]);
    if (listener < 0) {
      fprintf(stderr, "fcgi2_bench: cannot listen on %s\n", argv[2]);
      return 1;
    }
  } else if (argc != 1) {
    fprintf(stderr, "usage: fcgi2_bench [--listen unix:PATH | --listen tcp:HOST:PORT]\n");
    return 2;
  }
  memset(big_block, 'x', sizeof(big_block));
  if (FCGX_Init() != 0) return 1;
  /* No SA_RESTART: the signal interrupts accept(), and FCGX_Accept_r then returns. */
  struct sigaction action;
  memset(&action, 0, sizeof(action));
  action.sa_handler = on_terminate;
  sigaction(SIGTERM, &action, NULL);
  sigaction(SIGINT, &action, NULL);

  FCGX_Request request;
  FCGX_InitRequest(&request, listener, FCGI_FAIL_ACCEPT_ON_INTR);
  while (FCGX_Accept_r(&request) >= 0) {
    serve(&request);
    FCGX_Finish_r(&request);
  }
  return 0;
}
