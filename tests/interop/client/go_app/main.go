// go_app: the interop test's application on Go's net/http/fcgi, serving the listening
// socket it inherits on fd 0 (fcgi.Serve(nil, ...)); a goroutine per connection and per
// request, so it multiplexes.
//
//	?op=hello     -> "hello from go\n"
//	?op=count     -> the byte count of the request body and "\n"
//	?op=size&n=N  -> N bytes of the block "0123456789abcde\n" repeated, cut at N
package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/fcgi"
	"os"
	"strconv"
)

var chunk = bytes.Repeat([]byte("0123456789abcde\n"), 4096)

func answer(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain")
	switch r.URL.Query().Get("op") {
	case "count":
		n, _ := io.Copy(io.Discard, r.Body)
		fmt.Fprintf(w, "%d\n", n)
	case "size":
		remaining, _ := strconv.ParseInt(r.URL.Query().Get("n"), 10, 64)
		for remaining > 0 {
			n := int64(len(chunk))
			if remaining < n {
				n = remaining
			}
			if _, err := w.Write(chunk[:n]); err != nil {
				return
			}
			remaining -= n
		}
	default:
		io.WriteString(w, "hello from go\n")
	}
}

func main() {
	if err := fcgi.Serve(nil, http.HandlerFunc(answer)); err != nil {
		fmt.Fprintln(os.Stderr, "go_app:", err)
		os.Exit(1)
	}
}
