package api

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"time"
)

// Deadlines bound how long a client may take to send a request's body and
// to read its answer. Each is a grace period plus the time the transfer
// takes at MinRate: a client must move the bytes at MinRate on average
// once the grace is spent. That bounds a client that trickles a body or
// never reads its answer, without cutting off a reading client that is
// merely slow with a large answer (a several-MB candidates list) the way
// one fixed deadline would.
type Deadlines struct {
	// Body is the grace for the request body, counted from the moment
	// the handler receives the request (its headers read); 0 or less:
	// no deadline.
	Body time.Duration
	// Write is the grace for the answer, counted from its first write;
	// 0 or less: no deadline.
	Write time.Duration
	// MinRate in bytes per second; 0 or less: the graces bound whole
	// transfers, whatever their size.
	MinRate int64
}

// transfer is the time n bytes take at the minimum rate.
func (d Deadlines) transfer(n int64) time.Duration {
	if d.MinRate <= 0 || n <= 0 {
		return 0
	}
	return time.Duration(float64(n) / float64(d.MinRate) * float64(time.Second))
}

// ErrBodyDeadline is the error (wrapping os.ErrDeadlineExceeded) of
// reading a request body that did not arrive in time.
var ErrBodyDeadline = errors.New("the request body did not arrive in time")

// Handler sets the connection's deadlines around h. It must be the
// outermost handler of an http.Server. net/http clears the write deadline
// once an answer is sent, so that its own answers between requests (to a
// malformed one) do not meet the previous answer's deadline, and sets the
// read deadlines of the idle wait and of the next request's headers.
//
// When a deadline passes, the read or write fails, net/http cancels the
// request's context (ending the work in progress, which honours it) and
// closes the connection once the handler returns.
func (d Deadlines) Handler(h http.Handler) http.Handler {
	if d.Body <= 0 && d.Write <= 0 {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rc := http.NewResponseController(w)
		dw := &deadlineWriter{ResponseWriter: w, rc: rc, d: d}
		if d.Write > 0 {
			// Until the answer begins (an interim 100 Continue is all
			// that may be written before).
			rc.SetWriteDeadline(start.Add(d.Write))
		}
		// A request without a body has net/http reading the connection in
		// the background already (to see the client leave): a read
		// deadline would end that read and cancel the request. With a
		// body, the deadline is set at once, not at the handler's first
		// read: net/http reads what the handler left of the body before
		// answering, and must not wait for a trickle either.
		if d.Body > 0 && r.Body != nil && r.Body != http.NoBody {
			rc.SetReadDeadline(start.Add(d.Body))
			r.Body = &deadlineBody{ReadCloser: r.Body, rc: rc, d: d, start: start}
		}
		h.ServeHTTP(dw, r)
		if dw.start.IsZero() {
			dw.extend(0) // net/http writes the headers after the handler
		}
	})
}

// deadlineBody moves the read deadline on as the body arrives. It stops at
// the body's end or first error, when net/http takes the connection back.
type deadlineBody struct {
	io.ReadCloser
	rc    *http.ResponseController
	d     Deadlines
	start time.Time
	n     int64
	done  bool
}

func (b *deadlineBody) Read(p []byte) (int, error) {
	if b.done {
		return b.ReadCloser.Read(p)
	}
	b.rc.SetReadDeadline(b.start.Add(b.d.Body + b.d.transfer(b.n)))
	n, err := b.ReadCloser.Read(p)
	b.n += int64(n)
	if err != nil {
		b.done = true
		if errors.Is(err, os.ErrDeadlineExceeded) {
			err = &bodyDeadlineError{n: b.n, took: time.Since(b.start).Round(time.Millisecond), err: err}
		}
	}
	return n, err
}

// AnswerCut reports whether err is the failure to write an answer to the
// connection (its write deadline passed, or the client left), after which
// no error can be answered either.
func AnswerCut(err error) bool {
	var oe *net.OpError
	return errors.As(err, &oe) && oe.Op == "write"
}

// bodyDeadlineError says how much of the body came in how long, without
// the connection's addresses that the network error names.
type bodyDeadlineError struct {
	n    int64
	took time.Duration
	err  error
}

func (e *bodyDeadlineError) Error() string {
	return fmt.Sprintf("%v (%d bytes in %s)", ErrBodyDeadline, e.n, e.took)
}

func (e *bodyDeadlineError) Unwrap() []error { return []error{ErrBodyDeadline, e.err} }

// deadlineWriter moves the write deadline on as the answer is written: the
// grace from the first write plus the bytes written so far at the minimum
// rate.
type deadlineWriter struct {
	http.ResponseWriter
	rc    *http.ResponseController
	d     Deadlines
	start time.Time
	n     int64
	set   time.Time
}

func (w *deadlineWriter) extend(more int) {
	if w.d.Write <= 0 {
		return
	}
	if w.start.IsZero() {
		w.start = time.Now()
	}
	w.n += int64(more)
	if dl := w.start.Add(w.d.Write + w.d.transfer(w.n)); !dl.Equal(w.set) {
		w.set = dl
		w.rc.SetWriteDeadline(dl)
	}
}

func (w *deadlineWriter) WriteHeader(code int) {
	w.extend(0)
	w.ResponseWriter.WriteHeader(code)
}

func (w *deadlineWriter) Write(p []byte) (int, error) {
	w.extend(len(p))
	return w.ResponseWriter.Write(p)
}

// FlushError flushes the underlying writer.
func (w *deadlineWriter) FlushError() error { return w.rc.Flush() }

// Flush implements http.Flusher.
func (w *deadlineWriter) Flush() { w.rc.Flush() }

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *deadlineWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
