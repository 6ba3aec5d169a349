package api

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"allot/internal/model"
)

// HealthcheckPath is where Healthcheck answers, as oslo.middleware's
// healthcheck does in OpenStack's API pipelines.
const HealthcheckPath = "/healthcheck"

// healthTimeout bounds one health check of the store.
const healthTimeout = 3 * time.Second

// HealthOptions configure Healthcheck.
type HealthOptions struct {
	// DisableByFile, when set and the file exists, makes the check answer
	// 503 "DISABLED BY FILE" (oslo.middleware's disable_by_file_path: an
	// operator takes a server out of a load balancer's pool without
	// stopping it).
	DisableByFile string
	// Check reports why the service cannot serve (the store does not
	// answer), nil when it can.
	Check func(ctx context.Context) error
}

// Healthcheck answers GET and HEAD /healthcheck in oslo.middleware's form,
// before authentication (as in OpenStack's pipelines), and hands every
// other request to next. Healthy: 200 "OK" (HEAD: 204); otherwise 503
// with the reason. The body is text/plain unless Accept prefers text/html
// or application/json ({"detailed": false, "reasons": [...]}).
func Healthcheck(opts HealthOptions, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != HealthcheckPath || (r.Method != http.MethodGet && r.Method != http.MethodHead) {
			next.ServeHTTP(w, r)
			return
		}
		reason, healthy := opts.check(r.Context())
		status := http.StatusOK
		if !healthy {
			status = http.StatusServiceUnavailable
		}
		if r.Method == http.MethodHead {
			if healthy {
				status = http.StatusNoContent
			}
			w.Header().Set("Content-Type", "text/plain; charset=UTF-8")
			w.WriteHeader(status)
			return
		}
		var body, ctype string
		switch healthType(r.Header.Get("Accept")) {
		case "application/json":
			b, _ := json.MarshalIndent(struct {
				Detailed bool     `json:"detailed"`
				Reasons  []string `json:"reasons"`
			}{false, []string{reason}}, "", "    ")
			body, ctype = string(b), "application/json"
		case "text/html":
			body, ctype = healthHTML(reason), "text/html; charset=UTF-8"
		default:
			body, ctype = reason, "text/plain; charset=UTF-8"
		}
		w.Header().Set("Content-Type", ctype)
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(status)
		fmt.Fprint(w, body)
	})
}

// check runs the checks in oslo's order: the disable file, then the
// store. It returns the reason ("OK" when healthy).
func (o HealthOptions) check(ctx context.Context) (reason string, healthy bool) {
	if o.DisableByFile != "" {
		if _, err := os.Stat(o.DisableByFile); err == nil {
			return "DISABLED BY FILE", false
		}
	}
	if o.Check != nil {
		ctx, cancel := context.WithTimeout(ctx, healthTimeout)
		defer cancel()
		if err := o.Check(ctx); err != nil {
			msg := err.Error()
			if e, ok := model.AsError(err); ok {
				msg = e.Message
			}
			return "STORE UNAVAILABLE: " + model.Clip(msg, 500), false
		}
	}
	return "OK", true
}

// healthTypes are the types a health check answers in, in oslo's order
// of preference.
var healthTypes = []string{"text/plain", "text/html", "application/json"}

// healthType picks the answer's type from an Accept header: the type of
// highest quality, the first of healthTypes among equals; text/plain when
// none is acceptable (oslo answers rather than 406).
func healthType(accept string) string {
	if strings.TrimSpace(accept) == "" {
		return healthTypes[0]
	}
	best, bestQ := healthTypes[0], 0.0
	for _, offer := range healthTypes {
		if q := acceptQuality(accept, offer); q > bestQ {
			best, bestQ = offer, q
		}
	}
	return best
}

// acceptQuality is the quality an Accept header gives media type mt: that
// of the most specific range that matches it (0 when none does).
func acceptQuality(accept, mt string) float64 {
	typ, _, _ := strings.Cut(mt, "/")
	q, specificity := 0.0, -1
	for _, part := range strings.Split(accept, ",") {
		fields := strings.Split(part, ";")
		rng := strings.ToLower(strings.TrimSpace(fields[0]))
		spec := -1
		switch rng {
		case mt:
			spec = 2
		case typ + "/*":
			spec = 1
		case "*/*":
			spec = 0
		}
		if spec <= specificity {
			continue
		}
		rq := 1.0
		for _, p := range fields[1:] {
			k, v, ok := strings.Cut(strings.TrimSpace(p), "=")
			if ok && strings.TrimSpace(k) == "q" {
				if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil && f >= 0 && f <= 1 {
					rq = f
				}
			}
		}
		q, specificity = rq, spec
	}
	return q
}

// healthHTML is oslo's non-detailed HTML page.
func healthHTML(reason string) string {
	return "<HTML>\n<HEAD><TITLE>Healthcheck Status</TITLE></HEAD>\n<BODY>\n\n" +
		"<H2>Result of 1 checks:</H2>\n<TABLE bgcolor=\"#ffffff\" border=\"1\">\n<TBODY>\n<TR>\n\n" +
		"<TH>\nReason\n</TH>\n</TR>\n<TR>\n    <TD>" + html.EscapeString(reason) + "</TD>\n</TR>\n" +
		"</TBODY>\n</TABLE>\n<HR></HR>\n\n</BODY>\n</HTML>"
}
