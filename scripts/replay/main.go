// Command replay is a measuring aid for the side-by-side benchmark: an HTTP
// server that answers every request with the status, headers and body an
// upstream server (allot) gave for the same path and query the first time
// it was asked, and does no other work. Timed with the same client, it is
// the lowest latency any server could show on this machine, per query.
//
//	go run ./scripts/replay [-work 25us] UPSTREAM_URL LISTEN_ADDR
//
// -work spins for that long per request before answering, to see what a
// given amount of handler CPU costs end to end (e.g. under different
// GOMAXPROCS).
package main

import (
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"
)

type answer struct {
	status int
	header http.Header
	body   []byte
}

func main() {
	work := flag.Duration("work", 0, "busy time spent per request before answering")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: replay [-work D] UPSTREAM_URL LISTEN_ADDR")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 2 {
		flag.Usage()
		os.Exit(2)
	}
	upstream, listen := strings.TrimRight(flag.Arg(0), "/"), flag.Arg(1)
	var mu sync.Mutex
	cache := map[string]*answer{}
	fetch := func(r *http.Request) (*answer, error) {
		key := r.URL.RequestURI()
		mu.Lock()
		defer mu.Unlock()
		if a := cache[key]; a != nil {
			return a, nil
		}
		req, err := http.NewRequest(r.Method, upstream+key, nil)
		if err != nil {
			return nil, err
		}
		req.Header = r.Header.Clone()
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			return nil, err
		}
		defer res.Body.Close()
		body, err := io.ReadAll(res.Body)
		if err != nil {
			return nil, err
		}
		a := &answer{status: res.StatusCode, header: res.Header, body: body}
		cache[key] = a
		return a, nil
	}
	handler := func(w http.ResponseWriter, r *http.Request) {
		if *work > 0 {
			for start := time.Now(); time.Since(start) < *work; {
			}
		}
		a, err := fetch(r)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		for k, v := range a.header {
			if k != "Date" {
				w.Header()[k] = v
			}
		}
		w.WriteHeader(a.status)
		w.Write(a.body)
	}
	log.Fatal(http.ListenAndServe(listen, http.HandlerFunc(handler)))
}
