package api

import (
	"context"
	"encoding/json"
	"math/big"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestCheckNumber(t *testing.T) {
	for _, tc := range []struct {
		lit string
		ok  bool
	}{
		{"0", true}, {"-1", true}, {"2.0", true}, {"1e3", true}, {"1E+3", true}, {"1e20", true},
		{"99999999999999999999999", true}, {"3.40282e+38", true}, {"1.7976931348623157e+308", true},
		{"1e-400", true}, {"1e400", false}, {"1.8e308", false}, {"-1e309", false},
		{"1e401", false}, {"1e-401", false}, {"1e999999", false}, {"0e999999", false}, {"1e00000000000000000001", true},
		{strings.Repeat("1", 100), true}, {strings.Repeat("1", 101), false}, {"0." + strings.Repeat("0", 99) + "1", false},
		{"1e", true}, {"-", true}, {"1.2.3e4e5", true}, // malformed: the decoder words it
	} {
		if got := checkNumber(tc.lit) == ""; got != tc.ok {
			t.Errorf("checkNumber(%.40q) accepts: %v, want %v", tc.lit, got, tc.ok)
		}
	}
}

func TestJSONNumberIsInt(t *testing.T) {
	for _, tc := range []struct {
		lit, want string
		ok        bool
	}{
		{"2", "2", true}, {"2.0", "2", true}, {"1e3", "1000", true}, {"1.5e1", "15", true}, {"-0.0", "0", true},
		{"0.000e5", "0", true}, {"12300e-2", "123", true}, {"9223372036854775807", "9223372036854775807", true},
		{"9.223372036854775807e18", "9223372036854775807", true}, {"9223372036854775808", "", false},
		{"2.5", "", false}, {"1e-400", "", false}, {"1e19", "", false}, {"-9.223372036854775808e18", "-9223372036854775808", true},
	} {
		got, ok := jsonNumberIsInt(json.Number(tc.lit))
		if ok != tc.ok || got != tc.want {
			t.Errorf("jsonNumberIsInt(%s) = %q %v, want %q %v", tc.lit, got, ok, tc.want, tc.ok)
		}
	}
}

// FuzzNumberChecks: the scan never refuses a number the limits allow, and
// for every number it accepts, the exact integer check agrees with
// big.Rat (what normalizeNumbers used before).
func FuzzNumberChecks(f *testing.F) {
	for _, s := range []string{"0", "2.0", "1e3", "-1.5e-3", "1e999999", "-1.5e-999999", "1e400", "1e-400", "0e99999999",
		"9.223372036854775807e18", "123456789012345678901234567890e-10", strings.Repeat("9", 120)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, lit string) {
		v, err := decodeAny([]byte(lit))
		n, isNum := v.(json.Number)
		if err != nil || !isNum {
			return
		}
		lit = n.String() // without the white space around it
		if checkNumber(lit) != "" {
			return
		}
		r, ok := new(big.Rat).SetString(lit)
		if !ok {
			t.Fatalf("%q: a number big.Rat cannot parse", lit)
		}
		want := r.IsInt() && r.Num().IsInt64()
		got, isInt := jsonNumberIsInt(n)
		if isInt != want || (want && got != r.Num().String()) {
			t.Fatalf("%q: jsonNumberIsInt = %q %v, big.Rat says %v %s", lit, got, isInt, want, r.Num())
		}
	})
}

// FuzzBodyChecks: whatever the body, the checks before decoding never
// panic, a NUL in a decoded string is always refused, and an error never
// quotes more than MaxDetail of it.
func FuzzBodyChecks(f *testing.F) {
	for _, s := range []string{`{"a": "b\u0000"}`, `{"\u0000": 1}`, `[1e999999]`, `{"a": [1, "\\u0000"]}`, `"\ud800"`, "\xff", `{"a": 1e-999999}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		v, err := decodeJSON(body)
		if err != nil {
			return
		}
		if _, _, ok := findNUL(v, ""); ok {
			t.Fatalf("%q: a NUL reached the decoded value", body)
		}
	})
}

func TestCheckRequestStrings(t *testing.T) {
	for _, tc := range []struct{ target, pattern, want string }{
		{"/v1/nodes?driver=ipmi&fields=uuid", "/v1/nodes", ""},
		{"/v1/nodes?driver=%C3%A9", "/v1/nodes", ""},
		{"/v1/nodes?driver=%ff", "/v1/nodes", `The value of query parameter "driver" is not valid UTF-8`},
		{"/v1/nodes?owner=a%00b", "/v1/nodes", `The value of query parameter "owner" contains a NUL`},
		{"/v1/nodes?a%00=1", "/v1/nodes", `The name of query parameter "a\x00" contains a NUL`},
		{"/v1/nodes/%ff", "/v1/nodes/{node}", "The path parameter {node} is not valid UTF-8"},
		{"/traits/A%00", "/traits/{name}", "The path parameter {name} contains a NUL"},
	} {
		r := httptest.NewRequest("GET", tc.target, nil)
		if i := strings.LastIndexByte(tc.pattern, '{'); i >= 0 {
			name := strings.Trim(tc.pattern[i:], "{}")
			r.SetPathValue(name, r.URL.Path[i:])
		}
		err := CheckRequestStrings(r, tc.pattern)
		got := ""
		if err != nil {
			got = err.Error()
		}
		if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
			t.Errorf("%s: %q, want %q", tc.target, got, tc.want)
		}
	}
}

// BenchmarkCheckRequestStrings measures the check on an ordinary request
// (the cost every routed request pays).
func BenchmarkCheckRequestStrings(b *testing.B) {
	r := httptest.NewRequest("GET", "/allocation_candidates?resources=VCPU:1,MEMORY_MB:1024&required=HW_CPU_X86_AVX2&limit=10", nil)
	st := &State{Identity: Identity{ProjectID: "8f3d1c0e2b5a4f6e9d7c1b3a5e7f9d1c", UserID: "admin"}}
	r = r.WithContext(context.WithValue(r.Context(), stateKey{}, st))
	b.ReportAllocs()
	for b.Loop() {
		if err := CheckRequestStrings(r, "/allocation_candidates"); err != nil {
			b.Fatal(err)
		}
	}
}

func TestQuoteRepr(t *testing.T) {
	long := strings.Repeat("a", 10000)
	for _, v := range []any{long, []any{long, long}, map[string]any{long: long}, []any{json.Number("1"), strings.Repeat("'", 5000)}} {
		if got := quoteRepr(v); len(got) > MaxQuote+8 || !strings.HasSuffix(got, "...") {
			t.Errorf("quoteRepr gave %d bytes: %.80q", len(got), got)
		}
	}
	if got := quoteRepr("a\x00b\n"); got != `'a\x00b\n'` {
		t.Errorf("quoteRepr = %s", got)
	}
	if got := PyRepr(map[string]any{"a": []any{json.Number("2.0"), nil, true}}); got != "{'a': [2.0, None, True]}" {
		t.Errorf("PyRepr = %s", got)
	}
}
