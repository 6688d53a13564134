/* limit: the floor of the end-to-end benchmarks (bench/run). A single-threaded epoll FastCGI
 * responder that frames records just enough to find where each request ends, then answers a
 * pre-encoded response: what serving FastCGI costs when nothing but the system calls is done.
 * No library, no allocation per request, no validation: it trusts its peer, which no real
 * application may do.
 *
 * Routes (a substring search of the PARAMS bytes, enough for the benchmark's paths):
 *   /big   a 1 MiB body, written from one static block with writev (no copy)
 *   /post  the byte count of the body and "\n"
 *   other  `Content-Type: text/plain`, `Content-Length: 14`, "Hello, world!\n"
 *
 * Serves the listening socket on fd 0, or `--listen unix:PATH` / `--listen tcp:HOST:PORT`.
 * Level-triggered epoll and one read per readiness: a request that arrives whole costs one
 * epoll_wait, one read and one writev. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

enum {
  type_begin_request = 1,
  type_end_request = 3,
  type_params = 4,
  type_stdin = 5,
  type_stdout = 6,
  header_size = 8,
  max_content = 65528, /* a multiple of 8: records need no padding */
  big_size = 1024 * 1024,
  max_iov = 64,
};

enum route { route_hello, route_big, route_post };

struct request {
  uint16_t id;
  uint8_t keep_conn;
  uint8_t route;
  unsigned long long body_bytes;
};

/* An output slice: bytes in the connection's arena (offset) or static bytes (pointer). The
 * arena may move when it grows, so arena slices are kept as offsets. */
struct slice {
  const char* fixed;
  size_t offset;
  size_t length;
};

struct connection {
  int fd;
  /* Record framing: the header being read, then what is left of its content and padding. */
  unsigned char header[header_size];
  size_t header_have;
  size_t content_left;
  size_t padding_left;
  char* content; /* BEGIN_REQUEST and PARAMS content, gathered */
  size_t content_have, content_capacity;
  struct request* requests;
  size_t request_count, request_capacity;
  char* arena;
  size_t arena_length, arena_capacity;
  struct slice* slices;
  size_t slice_first, slice_count, slice_capacity;
  int close_when_flushed;
  int want_write;
};

static char big_block[max_content];
static char hello_response[128];
static size_t hello_response_length;
static int epoll_fd;

static void* grow(void* memory, size_t* capacity, size_t need, size_t item) {
  if (need <= *capacity) return memory;
  size_t wanted = *capacity ? *capacity * 2 : 16;
  while (wanted < need) wanted *= 2;
  void* bigger = realloc(memory, wanted * item);
  if (bigger == NULL) abort();
  *capacity = wanted;
  return bigger;
}

static void put_header(unsigned char* h, int type, uint16_t id, size_t length) {
  h[0] = 1;
  h[1] = (unsigned char)type;
  h[2] = (unsigned char)(id >> 8);
  h[3] = (unsigned char)id;
  h[4] = (unsigned char)(length >> 8);
  h[5] = (unsigned char)length;
  h[6] = (unsigned char)((8 - length % 8) % 8);
  h[7] = 0;
}

/* Appends bytes to the arena and returns their offset. */
static size_t arena_put(struct connection* c, const void* bytes, size_t length) {
  c->arena = grow(c->arena, &c->arena_capacity, c->arena_length + length, 1);
  const size_t offset = c->arena_length;
  memcpy(c->arena + offset, bytes, length);
  c->arena_length += length;
  return offset;
}

static void add_slice(struct connection* c, const char* fixed, size_t offset, size_t length) {
  const size_t end = c->slice_first + c->slice_count;
  c->slices = grow(c->slices, &c->slice_capacity, end + 1, sizeof(struct slice));
  /* Merge with the previous arena slice when contiguous: fewer iovecs. */
  if (fixed == NULL && c->slice_count > 0) {
    struct slice* last = &c->slices[end - 1];
    if (last->fixed == NULL && last->offset + last->length == offset) {
      last->length += length;
      return;
    }
  }
  c->slices[end] = (struct slice){fixed, offset, length};
  c->slice_count++;
}

/* A small record (content up to 248 bytes) copied into the arena. */
static void put_record(struct connection* c, int type, uint16_t id, const void* content,
                       size_t length) {
  unsigned char record[header_size + 256] = {0};
  put_header(record, type, id, length);
  memcpy(record + header_size, content, length);
  const size_t total = header_size + length + record[6];
  add_slice(c, NULL, arena_put(c, record, total), total);
}

static void end_records(struct connection* c, uint16_t id) {
  unsigned char tail[header_size * 3] = {0};
  put_header(tail, type_stdout, id, 0);
  put_header(tail + header_size, type_end_request, id, 8); /* app status 0, REQUEST_COMPLETE */
  add_slice(c, NULL, arena_put(c, tail, sizeof(tail)), sizeof(tail));
}

static void answer_hello(struct connection* c, uint16_t id) {
  const size_t offset = arena_put(c, hello_response, hello_response_length);
  /* Patch the request id into the three pre-encoded records. */
  for (size_t at = 0; at < hello_response_length;) {
    unsigned char* h = (unsigned char*)c->arena + offset + at;
    h[2] = (unsigned char)(id >> 8);
    h[3] = (unsigned char)id;
    at += header_size + (size_t)((h[4] << 8) | h[5]) + h[6];
  }
  add_slice(c, NULL, offset, hello_response_length);
}

static void answer_big(struct connection* c, uint16_t id) {
  static const char head[] =
      "Content-Type: application/octet-stream\r\nContent-Length: 1048576\r\n\r\n";
  put_record(c, type_stdout, id, head, sizeof(head) - 1);
  for (size_t sent = 0; sent < big_size; sent += max_content) {
    const size_t length = big_size - sent < max_content ? big_size - sent : max_content;
    unsigned char h[header_size];
    put_header(h, type_stdout, id, length);
    add_slice(c, NULL, arena_put(c, h, header_size), header_size);
    add_slice(c, big_block, 0, length);
  }
  end_records(c, id);
}

static void answer_post(struct connection* c, uint16_t id, unsigned long long body_bytes) {
  char count[32];
  const int digits = snprintf(count, sizeof(count), "%llu\n", body_bytes);
  char text[96];
  const int length =
      snprintf(text, sizeof(text), "Content-Type: text/plain\r\nContent-Length: %d\r\n\r\n%s",
               digits, count);
  put_record(c, type_stdout, id, text, (size_t)length);
  end_records(c, id);
}

static struct request* find_request(struct connection* c, uint16_t id) {
  for (size_t i = 0; i < c->request_count; ++i) {
    if (c->requests[i].id == id) return &c->requests[i];
  }
  return NULL;
}

static void answer(struct connection* c, struct request* r) {
  if (r->route == route_big) {
    answer_big(c, r->id);
  } else if (r->route == route_post) {
    answer_post(c, r->id, r->body_bytes);
  } else {
    answer_hello(c, r->id);
  }
  if (!r->keep_conn) c->close_when_flushed = 1;
  *r = c->requests[--c->request_count];
}

static void on_record(struct connection* c, int type, uint16_t id, size_t length) {
  struct request* r = find_request(c, id);
  if (type == type_begin_request && c->content_have >= 3) {
    c->requests =
        grow(c->requests, &c->request_capacity, c->request_count + 1, sizeof(struct request));
    c->requests[c->request_count++] =
        (struct request){id, (uint8_t)(c->content[2] & 1), route_hello, 0};
  } else if (type == type_params && r != NULL && length > 0) {
    if (memmem(c->content, c->content_have, "/big", 4) != NULL) r->route = route_big;
    if (memmem(c->content, c->content_have, "/post", 5) != NULL) r->route = route_post;
  } else if (type == type_stdin && r != NULL && length == 0) {
    answer(c, r);
  }
}

/* Walks the bytes record by record; STDIN content is only counted, never kept. */
static void frame(struct connection* c, const unsigned char* data, size_t length) {
  while (length > 0) {
    if (c->header_have < header_size) {
      size_t take = header_size - c->header_have;
      if (take > length) take = length;
      memcpy(c->header + c->header_have, data, take);
      c->header_have += take;
      data += take;
      length -= take;
      if (c->header_have < header_size) return;
      c->content_left = (size_t)((c->header[4] << 8) | c->header[5]);
      c->padding_left = c->header[6];
      c->content_have = 0;
    }
    const int type = c->header[1];
    const uint16_t id = (uint16_t)((c->header[2] << 8) | c->header[3]);
    size_t take = c->content_left < length ? c->content_left : length;
    if (type == type_stdin) {
      struct request* r = find_request(c, id);
      if (r != NULL) r->body_bytes += take;
    } else if (type == type_begin_request || type == type_params) {
      c->content = grow(c->content, &c->content_capacity, c->content_have + take, 1);
      memcpy(c->content + c->content_have, data, take);
      c->content_have += take;
    }
    c->content_left -= take;
    data += take;
    length -= take;
    const size_t skip = c->padding_left < length ? c->padding_left : length;
    c->padding_left -= skip;
    data += skip;
    length -= skip;
    if (c->content_left == 0 && c->padding_left == 0) {
      on_record(c, type, id, (size_t)((c->header[4] << 8) | c->header[5]));
      c->header_have = 0;
    }
  }
}

static void close_connection(struct connection* c) {
  close(c->fd); /* also leaves the epoll set */
  free(c->content);
  free(c->requests);
  free(c->arena);
  free(c->slices);
  free(c);
}

static void watch(struct connection* c, int writable) {
  if (c->want_write == writable) return;
  c->want_write = writable;
  struct epoll_event ev = {.events = EPOLLIN | (writable ? EPOLLOUT : 0), .data.ptr = c};
  epoll_ctl(epoll_fd, EPOLL_CTL_MOD, c->fd, &ev);
}

/* Writes what it can; returns -1 when the connection is gone. */
static int flush(struct connection* c) {
  while (c->slice_count > 0) {
    struct iovec iov[max_iov];
    size_t count = 0;
    for (; count < c->slice_count && count < max_iov; ++count) {
      const struct slice* s = &c->slices[c->slice_first + count];
      iov[count].iov_base = (void*)(s->fixed ? s->fixed + s->offset : c->arena + s->offset);
      iov[count].iov_len = s->length;
    }
    ssize_t n = writev(c->fd, iov, (int)count);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) {
        watch(c, 1);
        return 0;
      }
      return -1;
    }
    while (n > 0) {
      struct slice* s = &c->slices[c->slice_first];
      const size_t used = (size_t)n < s->length ? (size_t)n : s->length;
      s->offset += used;
      s->length -= used;
      n -= (ssize_t)used;
      if (s->length == 0) {
        c->slice_first++;
        c->slice_count--;
      }
    }
  }
  c->slice_first = 0;
  c->arena_length = 0;
  watch(c, 0);
  return c->close_when_flushed ? -1 : 0;
}

static void on_readable(struct connection* c) {
  static unsigned char buffer[256 * 1024];
  const ssize_t n = read(c->fd, buffer, sizeof(buffer));
  if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
    close_connection(c);
    return;
  }
  if (n > 0) frame(c, buffer, (size_t)n);
  if (c->slice_count > 0 && !c->want_write && flush(c) < 0) close_connection(c);
}

static void on_acceptable(int listener) {
  for (;;) {
    const int fd = accept4(listener, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return; /* EAGAIN, or try again on the next readiness */
    struct connection* c = calloc(1, sizeof(*c));
    if (c == NULL) abort();
    c->fd = fd;
    const int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)); /* fails harmlessly on unix */
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
    epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &ev);
  }
}

static int open_listener(const char* endpoint) {
  int fd;
  if (strncmp(endpoint, "unix:", 5) == 0) {
    struct sockaddr_un address = {.sun_family = AF_UNIX};
    strncpy(address.sun_path, endpoint + 5, sizeof(address.sun_path) - 1);
    unlink(address.sun_path);
    fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd < 0 || bind(fd, (struct sockaddr*)&address, sizeof(address)) < 0) return -1;
  } else if (strncmp(endpoint, "tcp:", 4) == 0) {
    char host[64];
    const char* colon = strrchr(endpoint + 4, ':');
    if (colon == NULL || (size_t)(colon - endpoint - 4) >= sizeof(host)) return -1;
    memcpy(host, endpoint + 4, (size_t)(colon - endpoint - 4));
    host[colon - endpoint - 4] = '\0';
    struct sockaddr_in address = {.sin_family = AF_INET,
                                  .sin_port = htons((uint16_t)atoi(colon + 1))};
    if (inet_pton(AF_INET, host, &address.sin_addr) != 1) return -1;
    fd = socket(AF_INET, SOCK_STREAM, 0);
    const int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (fd < 0 || bind(fd, (struct sockaddr*)&address, sizeof(address)) < 0) return -1;
  } else {
    return -1;
  }
  return listen(fd, 1024) == 0 ? fd : -1;
}

/* Exits at once: there is nothing to finish, and a flag checked around epoll_wait would race. */
static void on_terminate(int signal) {
  (void)signal;
  _exit(0);
}

static void encode_hello(void) {
  static const char text[] =
      "Content-Type: text/plain\r\nContent-Length: 14\r\n\r\nHello, world!\n";
  const size_t length = sizeof(text) - 1;
  unsigned char* out = (unsigned char*)hello_response;
  put_header(out, type_stdout, 0, length);
  memcpy(out + header_size, text, length);
  size_t at = header_size + length + out[6];
  memset(out + header_size + length, 0, out[6]);
  put_header(out + at, type_stdout, 0, 0);
  at += header_size;
  put_header(out + at, type_end_request, 0, 8);
  memset(out + at + header_size, 0, 8);
  hello_response_length = at + header_size + 8;
}

int main(int argc, char** argv) {
  int listener = 0;
  if (argc == 3 && strcmp(argv[1], "--listen") == 0) {
    listener = open_listener(argv[2]);
    if (listener < 0) {
      perror("limit: cannot listen");
      return 1;
    }
  } else if (argc != 1) {
    fprintf(stderr, "usage: limit [--listen unix:PATH | --listen tcp:HOST:PORT]\n");
    return 2;
  }
  memset(big_block, 'x', sizeof(big_block));
  encode_hello();
  signal(SIGPIPE, SIG_IGN);
  struct sigaction action = {.sa_handler = on_terminate};
  sigaction(SIGTERM, &action, NULL);
  sigaction(SIGINT, &action, NULL);

  fcntl(listener, F_SETFL, fcntl(listener, F_GETFL) | O_NONBLOCK);
  epoll_fd = epoll_create1(EPOLL_CLOEXEC);
  struct epoll_event listen_event = {.events = EPOLLIN, .data.ptr = NULL};
  epoll_ctl(epoll_fd, EPOLL_CTL_ADD, listener, &listen_event);
  struct epoll_event events[256];
  for (;;) {
    const int n = epoll_wait(epoll_fd, events, 256, -1);
    for (int i = 0; i < n; ++i) {
      struct connection* c = events[i].data.ptr;
      if (c == NULL) {
        on_acceptable(listener);
      } else if ((events[i].events & EPOLLOUT) && c->want_write) {
        if (flush(c) < 0) close_connection(c);
      } else {
        on_readable(c);
      }
    }
  }
  return 0;
}
