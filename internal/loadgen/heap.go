package loadgen

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// heapMetric is the Go runtime's heap in use, as allot's admin listener
// (and any Go service with the standard collectors) exports it.
const heapMetric = "go_memstats_heap_inuse_bytes"

// CheckMetricsURL says what is wrong with a metrics URL.
func CheckMetricsURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%q: want an http(s) URL such as http://127.0.0.1:9178/metrics", raw)
	}
	return nil
}

// ReadHeap reads the heap in use from a Prometheus text exposition at url
// (allot's admin listener: http://HOST:PORT/metrics).
func ReadHeap(ctx context.Context, url string) (float64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	resp, err := (&http.Client{Timeout: time.Minute}).Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("%s answered %s", url, resp.Status)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", url, err)
	}
	f := families[heapMetric]
	if f == nil || len(f.GetMetric()) == 0 || f.GetMetric()[0].GetGauge() == nil {
		return 0, fmt.Errorf("%s has no %s", url, heapMetric)
	}
	return f.GetMetric()[0].GetGauge().GetValue(), nil
}

// readHeaps reads the heap at each URL once (a scrape of allot's
// /metrics with per-provider series costs the server seconds of CPU at
// 100,000 providers: a run reads it at its end only, so that it does not
// measure its own scrapes).
func readHeaps(ctx context.Context, urls []string) []Heap {
	heaps := make([]Heap, len(urls))
	for i, u := range urls {
		heaps[i].URL = u
		v, err := ReadHeap(ctx, u)
		if err != nil {
			heaps[i].Err = err.Error()
			continue
		}
		heaps[i].Bytes = v
	}
	return heaps
}
