#!/usr/bin/env python3
"""Writes the seed corpora of the fcgi::protocol fuzz targets into tests/fuzz/corpus/<target>/,
and their libFuzzer dictionaries into tests/fuzz/<target>.dict.

Each seed starts with the control bytes its target reads first (see the layout comment at the
top of each fuzz_*.cpp), followed by FastCGI bytes built here from the specification alone, so
a bug in the library cannot leak into its own seeds. Run it after changing a target's input
layout, and commit the files it writes; it only writes the files named below and leaves
crash-regression-* files alone.

    python3 tests/fuzz/make_seeds.py
"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))

BEGIN, ABORT, END, PARAMS, STDIN, STDOUT, STDERR, DATA = 1, 2, 3, 4, 5, 6, 7, 8
GET_VALUES, GET_VALUES_RESULT, UNKNOWN_TYPE = 9, 10, 11
RESPONDER, AUTHORIZER, FILTER = 1, 2, 3


def record(rtype, rid, content=b"", padding=None, version=1):
    """One record (§3.3), padded to 8 unless told otherwise."""
    if padding is None:
        padding = (8 - len(content) % 8) % 8
    return struct.pack(">BBHHBB", version, rtype, rid, len(content), padding, 0) + content + \
        b"\0" * padding


def stream(rtype, rid, content, size=65528):
    """Stream records carrying content, then nothing: the caller adds the empty record."""
    return b"".join(record(rtype, rid, content[i:i + size]) for i in range(0, len(content), size))


def length(n, long_form=False):
    return struct.pack(">I", n | 0x80000000) if n >= 128 or long_form else bytes([n])


def pair(name, value, long_form=False):
    name, value = as_bytes(name), as_bytes(value)
    return length(len(name), long_form) + length(len(value), long_form) + name + value


def as_bytes(text):
    return text if isinstance(text, bytes) else text.encode()


def pairs(items):
    return b"".join(pair(n, v) for n, v in items)


def begin(rid, role=RESPONDER, keep_conn=True):
    return record(BEGIN, rid, struct.pack(">HB5x", role, 1 if keep_conn else 0))


def end_request(rid, app_status=0, protocol_status=0):
    return record(END, rid, struct.pack(">IB3x", app_status, protocol_status))


# The parameters nginx sends with the stock fastcgi_params plus a typical browser's headers.
NGINX_PARAMS = [
    ("QUERY_STRING", "page=2&sort=date"),
    ("REQUEST_METHOD", "GET"),
    ("CONTENT_TYPE", ""),
    ("CONTENT_LENGTH", ""),
    ("SCRIPT_NAME", "/index.php"),
    ("REQUEST_URI", "/index.php?page=2&sort=date"),
    ("DOCUMENT_URI", "/index.php"),
    ("DOCUMENT_ROOT", "/var/www/html"),
    ("SERVER_PROTOCOL", "HTTP/1.1"),
    ("REQUEST_SCHEME", "https"),
    ("HTTPS", "on"),
    ("GATEWAY_INTERFACE", "CGI/1.1"),
    ("SERVER_SOFTWARE", "nginx/1.22.1"),
    ("REMOTE_ADDR", "203.0.113.45"),
    ("REMOTE_PORT", "51234"),
    ("SERVER_ADDR", "192.0.2.10"),
    ("SERVER_PORT", "443"),
    ("SERVER_NAME", "www.example.com"),
    ("REDIRECT_STATUS", "200"),
    ("SCRIPT_FILENAME", "/var/www/html/index.php"),
    ("PATH_INFO", ""),
    ("HTTP_HOST", "www.example.com"),
    ("HTTP_USER_AGENT", "Mozilla/5.0 (X11; Linux x86_64; rv:109.0) Gecko/20100101 "
                        "Firefox/115.0"),
    ("HTTP_ACCEPT", "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,"
                    "image/webp,*/*;q=0.8"),
    ("HTTP_ACCEPT_LANGUAGE", "en-US,en;q=0.5"),
    ("HTTP_ACCEPT_ENCODING", "gzip, deflate, br"),
    ("HTTP_CONNECTION", "keep-alive"),
    ("HTTP_COOKIE", "session=3f2a9c1e7b5d4a60; theme=dark"),
    ("HTTP_UPGRADE_INSECURE_REQUESTS", "1"),
    ("HTTP_CACHE_CONTROL", "max-age=0"),
]


def with_param(params, name, value):
    return [(n, v) for n, v in params if n != name] + [(name, value)]


def request(rid, params, body=b"", role=RESPONDER, keep_conn=True, data=None):
    out = begin(rid, role, keep_conn) + stream(PARAMS, rid, pairs(params)) + record(PARAMS, rid)
    out += stream(STDIN, rid, body) + record(STDIN, rid)
    if data is not None:
        out += stream(DATA, rid, data) + record(DATA, rid)
    return out


HELLO = b"Content-Type: text/plain\r\nContent-Length: 14\r\n\r\nHello, world!\n"


def app_seeds():
    """[settings][chunking][seed: 2] + web-server bytes."""
    def ctl(settings=0, chunking=0, seed=0x1234):
        return bytes([settings, chunking]) + struct.pack(">H", seed)

    get = request(1, NGINX_PARAMS)
    body = b"name=fcgikit&lang=c%2B%2B&tags=fastcgi%2Cprotocol"
    post_params = with_param(with_param(NGINX_PARAMS, "REQUEST_METHOD", "POST"),
                             "CONTENT_LENGTH", str(len(body)))
    post_params = with_param(post_params, "CONTENT_TYPE", "application/x-www-form-urlencoded")
    post = request(1, post_params, body)
    encoded = pairs(NGINX_PARAMS)
    cut = len(encoded) // 2 + 3  # inside a pair
    split = begin(1) + record(PARAMS, 1, encoded[:cut]) + record(PARAMS, 1, encoded[cut:]) + \
        record(PARAMS, 1) + record(STDIN, 1)
    long_forms = begin(1) + record(PARAMS, 1, b"".join(pair(n, v, True) for n, v in NGINX_PARAMS[:8]))
    long_forms += record(PARAMS, 1, pair("N" * 127, "v" * 128) + pair("M" * 128, "")) + \
        record(PARAMS, 1) + record(STDIN, 1)
    mux = begin(1) + begin(2) + record(PARAMS, 2, pairs(NGINX_PARAMS[:10])) + \
        record(PARAMS, 1, pairs(NGINX_PARAMS)) + begin(3, keep_conn=True) + record(PARAMS, 1) + \
        record(PARAMS, 3, pairs(NGINX_PARAMS[5:9])) + record(STDIN, 1, b"abc") + \
        record(PARAMS, 2) + record(PARAMS, 3) + record(STDIN, 3) + record(STDIN, 2) + \
        record(STDIN, 1) + record(ABORT, 3)
    big_body = bytes((i * 7) & 0xff for i in range(20000))
    big = begin(1) + stream(PARAMS, 1, pairs(with_param(post_params, "CONTENT_LENGTH",
                                                        str(len(big_body))))) + record(PARAMS, 1)
    big += record(STDIN, 1, big_body[:16000], padding=255) + record(STDIN, 1, big_body[16000:]) + \
        record(STDIN, 1)
    filter_params = with_param(NGINX_PARAMS, "FCGI_DATA_LAST_MOD", "1700000000")
    filter_params = with_param(filter_params, "FCGI_DATA_LENGTH", "12")
    gv = record(GET_VALUES, 0, pairs([("FCGI_MAX_CONNS", ""), ("FCGI_MAX_REQS", ""),
                                      ("FCGI_MPXS_CONNS", ""), ("X_UNKNOWN", ""),
                                      ("FCGI_MAX_REQS", "")]))
    seeds = {
        "nginx_get": ctl() + get,
        "nginx_get_bytewise": ctl(chunking=1) + get,
        "nginx_get_random_reads": ctl(chunking=3, seed=0xbeef) + get,
        "nginx_get_then_get_values": ctl(chunking=2 + (5 << 2)) + get + gv + request(1, NGINX_PARAMS),
        "nginx_post": ctl(chunking=3) + post,
        "post_body_20k": ctl(chunking=3, seed=7) + big,
        "params_split_mid_pair": ctl(chunking=1) + split,
        "params_long_forms": ctl() + long_forms,
        "get_values": ctl() + gv,
        "get_values_small_settings": ctl(settings=0x81) + gv + record(GET_VALUES, 0),
        "multiplexed": ctl(chunking=3) + mux,
        "multiplexed_no_mpx": ctl(settings=0x01) + mux,
        "multiplexed_overloaded": ctl(settings=0x02) + mux,
        "filter_with_data": ctl(chunking=3) + request(1, filter_params, b"stdin", FILTER,
                                                      data=b"file content"),
        "authorizer": ctl() + request(1, NGINX_PARAMS[:12], role=AUTHORIZER),
        "filter_not_accepted": ctl(settings=0x04) + request(1, NGINX_PARAMS, role=FILTER, data=b"x"),
        "abort_started": ctl() + begin(1) + record(PARAMS, 1, pairs(NGINX_PARAMS)) +
        record(PARAMS, 1) + record(ABORT, 1) + record(STDIN, 1),
        "abort_unstarted": ctl() + begin(2) + record(PARAMS, 2, pairs(NGINX_PARAMS[:4])) +
        record(ABORT, 2) + record(ABORT, 9) + request(2, NGINX_PARAMS[:4]),
        "keep_conn_off": ctl() + request(1, NGINX_PARAMS, keep_conn=False),
        "unknown_types": ctl() + record(0, 0) + record(42, 0, b"abc") + record(UNKNOWN_TYPE, 0, b"\0" * 8) +
        begin(1) + record(200, 1, b"skipped!") + record(PARAMS, 1) + record(STDIN, 1),
        "unknown_role": ctl() + begin(1, role=7) + record(PARAMS, 1, pairs(NGINX_PARAMS[:3])) +
        request(1, NGINX_PARAMS[:3]),
        "stdin_before_params_end": ctl() + begin(1) + record(PARAMS, 1, pairs(NGINX_PARAMS[:3])) +
        record(STDIN, 1, b"early") + request(1, NGINX_PARAMS[:3]),
        "content_length_mismatch": ctl() + request(1, with_param(NGINX_PARAMS, "CONTENT_LENGTH", "10"),
                                                   b"only7!!") +
        request(1, with_param(NGINX_PARAMS, "CONTENT_LENGTH", "3"), b"four"),
        "content_length_20_digits": ctl() + request(1, with_param(NGINX_PARAMS, "CONTENT_LENGTH",
                                                                  "00000000000000000001"), b"x") +
        request(1, with_param(NGINX_PARAMS, "CONTENT_LENGTH", "0000000000000000001"), b"y"),
        "duplicate_script_filename": ctl() + request(1, NGINX_PARAMS + [("SCRIPT_FILENAME", "/etc/passwd")]),
        "duplicates_allowed": ctl(settings=0x30) + request(1, NGINX_PARAMS + [("CONTENT_LENGTH", "-1")]),
        "small_params_limits": ctl(settings=0x08) + get + request(1, NGINX_PARAMS[:3]),
        "reference_writes": ctl(settings=0x40, chunking=3) + post + request(1, NGINX_PARAMS),
        "bad_version": ctl() + get + record(STDIN, 1, version=2),
        "begin_on_null_id": ctl() + begin(0),
    }
    return seeds


def client_seeds():
    """[settings][chunking][seed: 2][starts][roles: 2][keep-conn bits] + application bytes."""
    def ctl(max_requests=1, starts=1, chunking=0, seed=0x4321, roles=0, close_bits=0, settings=0):
        return bytes([settings | (max_requests - 1), chunking]) + struct.pack(">H", seed) + \
            bytes([starts]) + struct.pack(">H", roles) + bytes([close_bits])

    hello = record(STDOUT, 1, HELLO) + record(STDOUT, 1) + end_request(1)
    with_stderr = record(STDOUT, 1, HELLO[:20]) + record(STDERR, 1, b"PHP Notice: x\n") + \
        record(STDOUT, 1, HELLO[20:]) + record(STDERR, 1) + record(STDOUT, 1) + end_request(1, 3)
    mux = record(STDOUT, 2, b"two") + record(STDOUT, 1, HELLO) + record(STDOUT, 3, b"three") + \
        record(STDOUT, 2) + end_request(2) + record(STDOUT, 1) + record(STDOUT, 3) + \
        end_request(3, 1) + end_request(1)
    values = record(GET_VALUES_RESULT, 0, pairs([("FCGI_MAX_CONNS", "10"), ("FCGI_MAX_REQS", "50"),
                                                 ("FCGI_MPXS_CONNS", "1")]))
    big = bytes((i * 13) & 0xff for i in range(30000))
    return {
        "hello": ctl() + hello,
        "hello_bytewise": ctl(chunking=1) + hello,
        "hello_random_reads": ctl(chunking=3, seed=99) + hello + hello,
        "hello_with_stderr": ctl(chunking=3) + with_stderr,
        "multiplexed": ctl(max_requests=4, starts=3, chunking=3) + mux,
        "multiplexed_reuse": ctl(max_requests=2, starts=2) + hello + record(STDOUT, 2, b"x") +
        record(STDOUT, 1, b"late") + end_request(1) + end_request(2),
        "values_and_unknown": ctl(starts=0) + values + record(UNKNOWN_TYPE, 0, b"\x2a" + b"\0" * 7) +
        record(77, 0, b"skip") + record(GET_VALUES_RESULT, 0),
        "rejected": ctl(starts=2, max_requests=2) + end_request(1, 0, 2) + end_request(2, 0, 1),
        "big_stdout": ctl(chunking=3) + stream(STDOUT, 1, big, 8000) + record(STDOUT, 1) + end_request(1),
        "padding_255": ctl() + record(STDOUT, 1, HELLO, padding=255) + record(STDOUT, 1) + end_request(1),
        "filter": ctl(roles=3) + hello,
        "keep_conn_off": ctl(close_bits=1) + hello,
        "stdout_after_end": ctl() + hello + record(STDOUT, 1, b"smuggled"),
        "stdout_for_other_id": ctl() + record(STDOUT, 2, b"wrong"),
        "stream_after_end": ctl() + record(STDOUT, 1) + record(STDOUT, 1, b"again"),
        "end_request_bad_length": ctl() + record(END, 1, b"\0" * 4),
        "wrong_direction": ctl() + record(PARAMS, 1, pairs([("A", "b")])),
    }


def params_seeds():
    """[policy][pair limit selector][seed: 2] + pairs."""
    def ctl(policy=0, limit=0, seed=0x0707):
        return bytes([policy, limit]) + struct.pack(">H", seed)

    block = pairs(NGINX_PARAMS)
    return {
        "nginx": ctl() + block,
        "nginx_small_limit": ctl(policy=0x05, limit=100) + block,
        "nginx_growing_pieces": ctl(seed=0xffff, limit=200) + block,
        "long_forms": ctl() + b"".join(pair(n, v, True) for n, v in NGINX_PARAMS[:6]),
        "boundary_127_128": ctl() + pair("A" * 127, "b" * 128) + pair("C" * 128, "d" * 127),
        "truncated": ctl() + block[:-5],
        "declared_too_long": ctl(policy=0x01) + b"\xff\xff\xff\xff\x01" + b"x" * 20,
        "empty_name": ctl() + pair("", "value") + block,
        "nul_in_name_and_value": ctl() + pair("A\0B", "v") + pair("OK", "v\0v"),
        "duplicate": ctl() + block + pair("CONTENT_LENGTH", "5"),
        "duplicate_allowed": ctl(policy=0x10) + block + pair("CONTENT_LENGTH", "5"),
        "content_length_values": ctl(policy=0x30) + pair("CONTENT_LENGTH", "-1") +
        pair("CONTENT_LENGTH", "9223372036854775807") + pair("CONTENT_LENGTH", "1e3"),
        "content_length_2_63": ctl() + pair("CONTENT_LENGTH", "9223372036854775808"),
        "content_length_19_digits": ctl() + pair("CONTENT_LENGTH", "0000000000000000001"),
        "content_length_20_digits": ctl() + pair("CONTENT_LENGTH", "00000000000000000001"),
        "content_length_wraps_u64": ctl() + pair("CONTENT_LENGTH", "18446744073709551617"),
        "too_many": ctl(policy=0x04) + pairs([("P%d" % i, "v") for i in range(12)]),
        "get_values_names": ctl() + pairs([("FCGI_MAX_CONNS", ""), ("FCGI_MAX_REQS", ""),
                                           ("FCGI_MPXS_CONNS", "")]),
    }


def roundtrip_seeds():
    """[app chunking][client chunking][seed: 2][requests - 1] + per request: [flags][count]
    per param [name length][name][value length: 2][value], [stdin length: 2][stdin],
    [data length: 2][data] (Filter), [stdout length: 2][stdout], [stderr length][stderr],
    [appStatus: 2]."""
    def spec(params, stdin=b"", data=None, stdout=HELLO, stderr=b"", status=0, flags=0):
        role_bits = 3 if data is not None else 0  # Filter when there is DATA
        out = bytes([flags | role_bits, len(params)])
        for name, value in params:
            name, value = as_bytes(name), as_bytes(value)
            out += bytes([len(name)]) + name + struct.pack(">H", len(value)) + value
        out += struct.pack(">H", len(stdin)) + stdin
        if role_bits == 3:
            out += struct.pack(">H", len(data)) + data
        out += struct.pack(">H", len(stdout)) + stdout + bytes([len(stderr)]) + stderr
        return out + struct.pack(">H", status)

    def ctl(requests=1, app_chunking=0, client_chunking=0, seed=0x5151):
        return bytes([app_chunking, client_chunking]) + struct.pack(">H", seed) + bytes([requests - 1])

    few = NGINX_PARAMS[:15]
    return {
        "get": ctl() + spec(few),
        "post_with_length": ctl(app_chunking=3, client_chunking=3) +
        spec(few, stdin=b"a=1&b=2" * 40, flags=8 | 32),
        "split_params_bytewise": ctl(app_chunking=1, client_chunking=1) +
        spec(few, stdin=b"xyz", flags=16, stderr=b"warn", status=500),
        "filter": ctl(app_chunking=3) + spec(few[:4], stdin=b"in", data=b"file bytes" * 30),
        "multiplexed_close": ctl(requests=3, app_chunking=3, client_chunking=3) +
        spec(few, stdin=b"1" * 300) + spec(few[:3], flags=4) + spec(few[:2], stdin=b"3", stdout=b""),
        "long_values": ctl(client_chunking=2 + (9 << 2)) +
        spec([("V", "x" * 1500), ("W", "y" * 200)], stdin=b"q" * 5000, flags=8),
    }


def response_head_seeds():
    """[settings][chunking][seed: 2] + STDOUT bytes (RFC 3875 §6 head, then body)."""
    def ctl(settings=0, chunking=0, seed=0x6363):
        return bytes([settings, chunking]) + struct.pack(">H", seed)

    php = (b"X-Powered-By: PHP/8.2.7\r\nSet-Cookie: PHPSESSID=abc; path=/\r\n"
           b"Expires: Thu, 19 Nov 1981 08:52:00 GMT\r\nCache-Control: no-store, no-cache\r\n"
           b"Content-type: text/html; charset=UTF-8\r\n\r\n<!DOCTYPE html><p>hi</p>")
    return {
        "hello": ctl() + HELLO,
        "hello_bytewise": ctl(chunking=1) + HELLO,
        "php": ctl(chunking=3) + php,
        "lf_only": ctl() + b"Content-Type: text/plain\nX-A: 1\n\nbody",
        "empty_head": ctl() + b"\r\nbody",
        "status_reason": ctl() + b"Status: 404 Not Found\r\nContent-Type: text/plain\r\n\r\nx",
        "status_no_reason": ctl(chunking=2) + b"Status: 503\r\n\r\n",
        "status_99": ctl() + b"Status: 99\r\n\r\n",
        "status_2000": ctl() + b"Status: 2000 Too Big\r\n\r\n",
        "status_twice": ctl() + b"Status: 200 OK\r\nStatus: 403\r\n\r\n",
        "client_redirect": ctl() + b"Location: https://example.com/x?y=1\r\n\r\n",
        "local_redirect": ctl() + b"Location: /other?x=1\r\n\r\n",
        "redirect_301": ctl() + b"Status: 301\r\nLocation: //host/x\r\n\r\n",
        "created": ctl() + b"Status: 201 Created\r\nLocation: /items/7\r\nContent-Length: 0\r\n\r\n",
        "content_length": ctl() + b"Content-Length: 14\r\nContent-Type: text/plain\r\n\r\n" +
        b"Hello, world!\n",
        "content_length_bad": ctl() + b"Content-Length: 9223372036854775808\r\n\r\n",
        "authorizer": ctl() + b"Status: 200\r\nVariable-AUTH_USER: bob\r\nvariable-Role: x\r\n"
        b"Variable-: none\r\n\r\n",
        "no_colon": ctl() + b"HTTP/1.1 200 OK\r\n\r\n",
        "obs_fold": ctl() + b"X-A: one\r\n two\r\n\r\n",
        "control_bytes": ctl() + b"X-A: a\rb\r\nX-B: \x00\r\n\r\n",
        "too_large": ctl(settings=0x01) + b"X-Long: " + b"v" * 100 + b"\r\n\r\n",
        "too_many_fields": ctl(settings=0x04) + b"A: 1\r\nB: 2\r\nC: 3\r\n\r\n",
        "no_head_end": ctl(chunking=3) + b"Content-Type: text/plain\r\n" + b"x" * 2000,
    }


def write(target, seeds):
    folder = os.path.join(HERE, "corpus", target)
    os.makedirs(folder, exist_ok=True)
    for name, data in seeds.items():
        assert len(data) <= 65536, (target, name, len(data))
        with open(os.path.join(folder, name), "wb") as f:
            f.write(data)


# Names and values the params policy treats specially.
GUARDED_NAMES = ["CONTENT_LENGTH", "CONTENT_TYPE", "SCRIPT_FILENAME", "SCRIPT_NAME", "PATH_INFO",
                 "PATH_TRANSLATED", "QUERY_STRING", "REQUEST_METHOD", "REQUEST_URI",
                 "DOCUMENT_ROOT", "DOCUMENT_URI", "REMOTE_ADDR", "REMOTE_USER", "AUTH_TYPE",
                 "HTTPS", "SERVER_NAME", "SERVER_PORT", "HTTP_HOST", "FCGI_MAX_CONNS",
                 "FCGI_MAX_REQS", "FCGI_MPXS_CONNS"]
TRICKY_VALUES = ["-1", "0", "9223372036854775807", "9223372036854775808", "18446744073709551615",
                 "18446744073709551616", "0000000000000000001", "00000000000000000001", "1e3",
                 " 10", "+5"]


def dict_entry(name, data):
    text = "".join("\\x%02x" % c if c < 32 or c > 126 or c in (34, 92) else chr(c) for c in data)
    return '%s="%s"' % (name, text)


def params_dictionary():
    entries = [dict_entry("name_" + n.lower(), n.encode()) for n in GUARDED_NAMES]
    entries += [dict_entry("value_%d" % i, v.encode()) for i, v in enumerate(TRICKY_VALUES)]
    entries += [dict_entry("length_4_byte", b"\x80\0\0"), dict_entry("length_max", b"\x7f\xff\xff\xff"),
                dict_entry("length_high_bit", b"\xff\xff\xff\xff")]
    return entries


def record_dictionary():
    entries = []
    for rtype, name in [(BEGIN, "begin"), (ABORT, "abort"), (END, "end"), (PARAMS, "params"),
                        (STDIN, "stdin"), (STDOUT, "stdout"), (STDERR, "stderr"), (DATA, "data"),
                        (GET_VALUES, "get_values"), (GET_VALUES_RESULT, "values_result"),
                        (UNKNOWN_TYPE, "unknown_type")]:
        fixed = 8 if rtype in (BEGIN, END, UNKNOWN_TYPE) else 0
        for rid in (0, 1, 2):
            entries.append(dict_entry("%s_%d" % (name, rid), record(rtype, rid, b"\0" * fixed)[:8]))
    entries += [dict_entry("begin_body_responder", struct.pack(">HB5x", RESPONDER, 1)),
                dict_entry("begin_body_filter", struct.pack(">HB5x", FILTER, 0)),
                dict_entry("end_body", struct.pack(">IB3x", 0, 0)),
                dict_entry("header_padding_255", struct.pack(">BBHHBB", 1, STDIN, 1, 1, 255, 0)),
                dict_entry("header_content_65535", struct.pack(">BBHHBB", 1, STDOUT, 1, 65535, 0, 0))]
    return entries + params_dictionary()


def response_head_dictionary():
    names = ["Status", "Location", "Content-Type", "Content-Length", "Variable-", "Set-Cookie"]
    values = ["200", "302 Found", "99", "2000", "https://h/", "/local", "//h", "-1",
              "9223372036854775808"]
    entries = [dict_entry("name_%d" % i, (n if n.endswith("-") else n + ": ").encode())
               for i, n in enumerate(names)]
    entries += [dict_entry("value_%d" % i, v.encode()) for i, v in enumerate(values)]
    entries += [dict_entry("crlf", b"\r\n"), dict_entry("blank_line", b"\r\n\r\n"),
                dict_entry("fold", b"\r\n "), dict_entry("bare_cr", b"\r")]
    return entries


def write_dictionary(target, entries):
    with open(os.path.join(HERE, target + ".dict"), "w") as f:
        f.write("# libFuzzer dictionary, written by make_seeds.py\n" + "\n".join(entries) + "\n")


def main():
    write_dictionary("fuzz_app_connection", record_dictionary())
    write_dictionary("fuzz_client_connection", record_dictionary())
    write_dictionary("fuzz_params", params_dictionary())
    write_dictionary("fuzz_response_head", response_head_dictionary())
    write("fuzz_app_connection", app_seeds())
    write("fuzz_client_connection", client_seeds())
    write("fuzz_params", params_seeds())
    write("fuzz_roundtrip", roundtrip_seeds())
    write("fuzz_response_head", response_head_seeds())


if __name__ == "__main__":
    main()
