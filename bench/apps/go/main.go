// go_bench: the Go net/http/fcgi anchor of the end-to-end benchmarks (bench/run). Same routes
// as bench/apps/fcgikit_bench.cpp, matched on the end of the path:
//
//	.../hello  Content-Type: text/plain, Content-Length: 14, body "Hello, world!\n"
//	.../big    a 1 MiB body (?mib=N: N MiB)
//	.../post   reads the whole request body and answers its byte count and "\n"
//
// It serves the listening socket on fd 0 (fcgi.Serve(nil, ...)), or -listen unix:PATH or
// -listen tcp:HOST:PORT. Standard library only.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/fcgi"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
)

const mib = 1 << 20

var bigBlock = bytes.Repeat([]byte{'x'}, mib)

func serve(w http.ResponseWriter, r *http.Request) {
	path := r.URL.Path
	header := w.Header()
	switch {
	case strings.HasSuffix(path, "/hello"):
		header.Set("Content-Type", "text/plain")
		header.Set("Content-Length", "14")
		io.WriteString(w, "Hello, world!\n")
	case strings.HasSuffix(path, "/big"):
		count, err := strconv.ParseUint(r.URL.Query().Get("mib"), 10, 64)
		if err != nil {
			count = 1
		}
		header.Set("Content-Type", "application/octet-stream")
		header.Set("Content-Length", strconv.FormatUint(count*mib, 10))
		for i := uint64(0); i < count; i++ {
			if _, err := w.Write(bigBlock); err != nil {
				return
			}
		}
	case strings.HasSuffix(path, "/post"):
		length, _ := io.Copy(io.Discard, r.Body)
		text := fmt.Sprintf("%d\n", length)
		header.Set("Content-Type", "text/plain")
		header.Set("Content-Length", strconv.Itoa(len(text)))
		io.WriteString(w, text)
	default:
		http.Error(w, "no such route", http.StatusNotFound)
	}
}

func listen(endpoint string) (net.Listener, error) {
	if strings.HasPrefix(endpoint, "unix:") {
		path := strings.TrimPrefix(endpoint, "unix:")
		os.Remove(path)
		return net.Listen("unix", path)
	}
	if strings.HasPrefix(endpoint, "tcp:") {
		return net.Listen("tcp", strings.TrimPrefix(endpoint, "tcp:"))
	}
	return nil, fmt.Errorf("endpoint %q: want unix:PATH or tcp:HOST:PORT", endpoint)
}

func main() {
	endpoint := flag.String("listen", "", "unix:PATH or tcp:HOST:PORT (default: the socket on fd 0)")
	flag.Parse()
	var listener net.Listener
	if *endpoint != "" {
		var err error
		if listener, err = listen(*endpoint); err != nil {
			log.Fatal(err)
		}
	}
	// Exit 0 on SIGTERM, as the other apps do.
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	go func() { <-stop; os.Exit(0) }()
	if err := fcgi.Serve(listener, http.HandlerFunc(serve)); err != nil {
		log.Fatal(err)
	}
}
