package api

import (
	"io"
	"net"
	"strings"
	"testing"
	"unsafe"
)

// After a large body read in small pieces, fixConn still diagnoses the
// latest request head, and keeps no more than recentMax bytes in one
// buffer.
func TestFixConnDiagnosesAfterLargeBody(t *testing.T) {
	client, server := net.Pipe()
	defer client.Close()
	c := &fixConn{Conn: server, opts: &Refusals{Answers: PlacementAnswers, MaxHeaderBytes: 1 << 20}}
	head := "PUT /x HTTP/1.1\r\nContent-Length: 3e5\r\n\r\n"
	go func() {
		client.Write([]byte(strings.Repeat("b", 3*recentMax+100)))
		client.Write([]byte(head))
	}()
	want := 3*recentMax + 100 + len(head)
	buf := make([]byte, 4096)
	var first *byte
	for got := 0; got < want; {
		n, err := c.Read(buf)
		if err != nil {
			t.Fatal(err)
		}
		got += n
		if len(c.recent) > recentMax {
			t.Fatalf("kept %d bytes, more than %d", len(c.recent), recentMax)
		}
		if got > recentMax {
			if first == nil {
				first = unsafe.SliceData(c.recent) // the buffer after the first trim
			} else if unsafe.SliceData(c.recent) != first {
				t.Fatalf("the buffer was reallocated after %d bytes", got)
			}
		}
	}
	done := make(chan string)
	go func() {
		b, _ := io.ReadAll(client)
		done <- string(b)
	}()
	if _, err := c.Write(goBadRequest); err != nil {
		t.Fatal(err)
	}
	server.Close()
	if resp := <-done; !strings.Contains(resp, "content-length header must be an integer") || !strings.HasPrefix(resp, "HTTP/1.1 400") {
		t.Errorf("answer: %q", resp)
	}
}
