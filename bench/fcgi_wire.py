"""FastCGI bytes for the benchmark drivers (bench/run, bench/callgrind): pre-encoded requests
and a reader that finds where each response ends. Python 3 standard library only.

Not a FastCGI client: it trusts the application and checks only what a benchmark must know
(which request ended, with how many STDOUT bytes).
"""

import os
import socket
import struct
import time

BEGIN_REQUEST, ABORT_REQUEST, END_REQUEST, PARAMS, STDIN, STDOUT, STDERR = 1, 2, 3, 4, 5, 6, 7
RESPONDER = 1
KEEP_CONN = 1
MAX_CONTENT = 65528  # a multiple of 8: STDIN records need no padding
# bench/nginx.conf.in sends every request to the php-fpm router; the other apps ignore it.
PHP_SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "apps", "php", "bench.php")


def record(record_type, request_id, content=b""):
    padding = -len(content) % 8
    header = struct.pack(">BBHHBx", 1, record_type, request_id, len(content), padding)
    return header + content + b"\0" * padding


def pair(name, value):
    def length(n):
        return bytes([n]) if n < 128 else struct.pack(">I", n | 0x80000000)

    return length(len(name)) + length(len(value)) + name + value


def nginx_params(uri, method="GET", content_length=0):
    """The 21 params nginx sends for a request from wrk with the stock fastcgi_params plus
    SCRIPT_FILENAME (bench/nginx.conf.in)."""
    path, _, query = uri.partition("?")
    params = {
        "QUERY_STRING": query,
        "REQUEST_METHOD": method,
        "CONTENT_TYPE": "application/octet-stream" if content_length else "",
        "CONTENT_LENGTH": str(content_length) if content_length else "",
        "SCRIPT_NAME": path,
        "REQUEST_URI": uri,
        "DOCUMENT_URI": path,
        "DOCUMENT_ROOT": "/usr/share/nginx/html",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REQUEST_SCHEME": "http",
        "GATEWAY_INTERFACE": "CGI/1.1",
        "SERVER_SOFTWARE": "nginx/1.22.1",
        "REMOTE_ADDR": "127.0.0.1",
        "REMOTE_PORT": "53124",
        "REMOTE_USER": "",
        "SERVER_ADDR": "127.0.0.1",
        "SERVER_PORT": "8080",
        "SERVER_NAME": "localhost",
        "REDIRECT_STATUS": "200",
        "HTTP_HOST": "127.0.0.1:8080",
        "SCRIPT_FILENAME": PHP_SCRIPT,
    }
    return b"".join(pair(k.encode(), v.encode()) for k, v in params.items())


def request(path, request_id=1, keep_conn=True, body=b"", method=None):
    """One whole request: BEGIN_REQUEST, PARAMS, empty PARAMS, STDIN records, empty STDIN."""
    method = method or ("POST" if body else "GET")
    begin = struct.pack(">HB5x", RESPONDER, KEEP_CONN if keep_conn else 0)
    parts = [record(BEGIN_REQUEST, request_id, begin),
             record(PARAMS, request_id, nginx_params(path, method, len(body))),
             record(PARAMS, request_id)]
    for at in range(0, len(body), MAX_CONTENT):
        parts.append(record(STDIN, request_id, body[at:at + MAX_CONTENT]))
    parts.append(record(STDIN, request_id))
    return b"".join(parts)


def request_head(path, content_length, request_id=1, keep_conn=True):
    """BEGIN_REQUEST and PARAMS of a request whose STDIN the caller streams itself."""
    begin = struct.pack(">HB5x", RESPONDER, KEEP_CONN if keep_conn else 0)
    return (record(BEGIN_REQUEST, request_id, begin) +
            record(PARAMS, request_id, nginx_params(path, "POST", content_length)) +
            record(PARAMS, request_id))


class response_reader:
    """Reads responses off a connection; read_one() returns at each END_REQUEST.

    `pause` = (bytes, seconds) makes it a slow reader: it sleeps that long after each that
    many bytes, so the application's output never drains completely."""

    def __init__(self, sock, buffer_size=256 * 1024, pause=None):
        self.sock = sock
        self.buffer = bytearray()
        self.buffer_size = buffer_size
        self.pause = pause
        self.unpaused = 0

    def _recv(self, size):
        chunk = self.sock.recv(size)
        if not chunk:
            raise ConnectionError("the application closed the connection mid-response")
        if self.pause:
            self.unpaused += len(chunk)
            if self.unpaused >= self.pause[0]:
                self.unpaused = 0
                time.sleep(self.pause[1])
        return chunk

    def _fill(self):
        self.buffer += self._recv(self.buffer_size)

    def read_one(self, keep_stdout=False):
        """Returns (request_id, stdout_byte_count, stdout bytes or b"")."""
        stdout_bytes = 0
        kept = bytearray()
        while True:
            while len(self.buffer) < 8:
                self._fill()
            _, record_type, request_id, length, padding = struct.unpack_from(">BBHHB", self.buffer)
            total = 8 + length + padding
            if record_type == STDOUT and len(self.buffer) < total and not keep_stdout:
                # Large bodies: count and drop as they arrive instead of gathering the record.
                self._skip(total)
                stdout_bytes += length
                continue
            while len(self.buffer) < total:
                self._fill()
            if record_type == STDOUT:
                stdout_bytes += length
                if keep_stdout:
                    kept += self.buffer[8:8 + length]
            if record_type == END_REQUEST:
                del self.buffer[:total]
                return request_id, stdout_bytes, bytes(kept)
            del self.buffer[:total]

    def _skip(self, total):
        """Drops the record at the head of the buffer, reading exactly to its end."""
        left = total - len(self.buffer)
        self.buffer.clear()
        while left > 0:
            left -= len(self._recv(min(self.buffer_size, left)))


def connect(endpoint):
    """unix:PATH or tcp:HOST:PORT."""
    if endpoint.startswith("unix:"):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.connect(endpoint[5:])
        return sock
    host, _, port = endpoint[4:].rpartition(":")
    sock = socket.create_connection((host, int(port)))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock
