package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestReport(t *testing.T) {
	const pass = `{"Action":"run","Package":"allot/a","Test":"TestOK"}
{"Action":"output","Package":"allot/a","Test":"TestOK","Output":"=== RUN   TestOK\n"}
{"Action":"pass","Package":"allot/a","Test":"TestOK"}
{"Action":"output","Package":"allot/a","Output":"ok  \tallot/a\t0.1s\n"}
{"Action":"pass","Package":"allot/a"}
`
	const skipped = `{"Action":"run","Package":"allot/e2e","Test":"TestCLI"}
{"Action":"output","Package":"allot/e2e","Test":"TestCLI","Output":"    main_test.go:24: openstack is not installed\n"}
{"Action":"output","Package":"allot/e2e","Test":"TestCLI","Output":"--- SKIP: TestCLI (0.00s)\n"}
{"Action":"skip","Package":"allot/e2e","Test":"TestCLI"}
`
	const failed = `{"Action":"run","Package":"allot/b","Test":"TestBad"}
{"Action":"output","Package":"allot/b","Test":"TestBad","Output":"    b_test.go:9: got 1, want 2\n"}
{"Action":"fail","Package":"allot/b","Test":"TestBad"}
{"Action":"output","Package":"allot/b","Output":"FAIL\tallot/b\t0.2s\n"}
{"Action":"fail","Package":"allot/b"}
`
	cases := []struct {
		name       string
		in         string
		requireAll bool
		code       int
		want, not  []string
	}{
		{"all pass", pass, true, 0, []string{"ok  \tallot/a", "skipped: none"}, []string{"=== RUN"}},
		{"a skip, locally", pass + skipped, false, 0, []string{"skipped: 1 test(s): e2e TestCLI (openstack is not installed)"}, nil},
		{"a skip in CI", pass + skipped, true, 1, []string{"skipped: 1 test(s)", "ALLOT_REQUIRE_CLIENTS=1"}, nil},
		{"a failure", pass + failed, false, 1, []string{"b_test.go:9: got 1, want 2", "FAIL\tallot/b"}, nil},
		{"not json", "go: downloading x\n" + pass, false, 0, []string{"go: downloading x"}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var out bytes.Buffer
			code := run(strings.NewReader(c.in), &out, c.requireAll)
			if code != c.code {
				t.Errorf("exit %d, want %d\n%s", code, c.code, out.String())
			}
			for _, w := range c.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, out.String())
				}
			}
			for _, n := range c.not {
				if strings.Contains(out.String(), n) {
					t.Errorf("output has %q:\n%s", n, out.String())
				}
			}
		})
	}
}
