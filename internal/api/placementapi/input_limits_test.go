package placementapi_test

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"allot/internal/testserver"
)

// processCPU is the CPU time (user and system) the test process used.
func processCPU(t *testing.T) time.Duration {
	t.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// errorDetail returns the detail of a Placement error answer.
func errorDetail(r testserver.Response) string {
	errs, _ := r.JSON()["errors"].([]any)
	if len(errs) == 0 {
		return ""
	}
	d, _ := errs[0].(map[string]any)["detail"].(string)
	return d
}

// hugeBody builds a body of nearly 10 MiB (the default body limit) for
// PUT /allocations/{consumer}: many resource classes, each with amount num,
// then last as the final amount.
func hugeBody(num, last string) string {
	var b strings.Builder
	b.WriteString(`{"allocations": {"` + fuzzRP + `": {"resources": {`)
	for i := 0; b.Len() < 10<<20-200; i++ {
		fmt.Fprintf(&b, `"CUSTOM_C%d": %s, `, i, num)
	}
	b.WriteString(`"CUSTOM_LAST": ` + last + `}}}, "project_id": "p", "user_id": "u", "consumer_generation": null}`)
	return b.String()
}

// TestHugeNumbersBoundedCPU: JSON numbers with huge exponents or very many
// digits are refused after one linear scan of the body, never parsed
// exactly (1e999999 cost 30-70 ms each before, so a 10 MiB body cost
// hours): a 10 MiB body of them is a 400 within 1 s of CPU, whose detail
// quotes a short prefix of the number.
func TestHugeNumbersBoundedCPU(t *testing.T) {
	p := testserver.StartPlacement(t, testserver.OpenStore(t, "sqlite"))
	p.Must(200, "POST", "/resource_providers", "1.39", map[string]any{"name": "rp", "uuid": fuzzRP})
	budget := time.Second
	if raceEnabled {
		// The race detector slows the body's transfer and scan about
		// tenfold; the bound still fails the exact parsing, which cost
		// hours for these bodies.
		budget = 10 * time.Second
	}
	manyDigits := "1" + strings.Repeat("0", 10<<20-300)
	for _, tc := range []struct{ name, body, quote string }{
		{"huge exponents", hugeBody("1e999999", "1"), "1e999999 is out of range"},
		{"huge negative exponents", hugeBody("-1.5e-999999", "1"), "-1.5e-999999 is out of range"},
		{"one huge number last", hugeBody("1", "9e99999999999999999999"), "9e99999999999999999999 is out of range"},
		{"beyond float64", hugeBody("1e400", "1"), "1e400 is out of range"},
		{"very many digits", `{"allocations": {"` + fuzzRP + `": {"resources": {"VCPU": ` + manyDigits + `}}}}`, "1000000000"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := processCPU(t)
			r := p.Do("PUT", "/allocations/6a7b8c9d-0000-4000-8000-000000000001", "1.39", tc.body)
			used := processCPU(t) - before
			if r.Status != http.StatusBadRequest {
				t.Fatalf("status %d, want 400: %.300s", r.Status, r.Body)
			}
			d := errorDetail(r)
			if !strings.HasPrefix(d, "JSON does not validate: ") || !strings.Contains(d, tc.quote) || len(d) > 1024 {
				t.Errorf("detail %.500q (%d bytes): want JSON does not validate, %q and a short quote", d, len(d), tc.quote)
			}
			t.Logf("%d-byte body: %v of CPU", len(tc.body), used)
			if used > budget {
				t.Errorf("the %d-byte body cost %v of CPU, want at most %v", len(tc.body), used, budget)
			}
		})
	}
}

// TestNumbersKeepPlacementAnswers: numbers within the limits are checked
// exactly as before, so Placement's answers stay (2.0 is 2, 1e3 is 1000,
// an out-of-range integer is the schema's 400 in Placement's words).
func TestNumbersKeepPlacementAnswers(t *testing.T) {
	p := testserver.StartPlacement(t, testserver.OpenStore(t, "sqlite"))
	p.Must(200, "POST", "/resource_providers", "1.39", map[string]any{"name": "rp", "uuid": fuzzRP})
	inv := "/resource_providers/" + fuzzRP + "/inventories"
	for _, tc := range []struct {
		body   string
		status int
		detail string
	}{
		{`{"resource_class": "VCPU", "total": 2.0}`, 201, ""},
		{`{"resource_class": "MEMORY_MB", "total": 1e3, "max_unit": 1.0e3, "allocation_ratio": 1.5}`, 201, ""},
		{`{"resource_class": "DISK_GB", "total": 1e20}`, 400, "JSON does not validate: 1e+20 is greater than the maximum of 2147483647\n\n" +
			"Failed validating 'maximum' in schema['properties']['total']\n\nOn instance['total']:\n    1e+20"},
		{`{"resource_class": "DISK_GB", "total": 99999999999999999999999}`, 400, "JSON does not validate: 99999999999999999999999 is greater than the maximum of 2147483647"},
		{`{"resource_class": "DISK_GB", "total": 2.5}`, 400, "JSON does not validate: 2.5 is not of type 'integer'"},
		{`{"resource_class": "DISK_GB", "total": 1, "allocation_ratio": 1e39}`, 400, "JSON does not validate: 1e+39 is greater than the maximum of 340282000000000000000000000000000000000"},
		{`{"resource_class": "DISK_GB", "total": 1e-400}`, 400, "JSON does not validate: 0.0 is not of type 'integer'"},
	} {
		r := p.Do("POST", inv, "1.39", tc.body)
		if r.Status != tc.status || !strings.HasPrefix(errorDetail(r), tc.detail) {
			t.Errorf("%s: %d %q, want %d %q", tc.body, r.Status, errorDetail(r), tc.status, tc.detail)
		}
	}
	r := p.Must(200, "GET", inv+"/MEMORY_MB", "1.39", nil)
	if got := r.JSON(); got["total"] != 1000.0 || got["max_unit"] != 1000.0 {
		t.Errorf("MEMORY_MB inventory %v, want total and max_unit 1000", got)
	}
}

// TestErrorsQuoteAShortPrefix: an error quotes at most a short prefix of
// what the client sent (a 9 MB body gave a 9 MB error before).
func TestErrorsQuoteAShortPrefix(t *testing.T) {
	p := testserver.StartPlacement(t, testserver.OpenStore(t, "sqlite"))
	long := strings.Repeat("x", 9<<20)
	manyKeys := func() string {
		var b bytes.Buffer
		b.WriteString(`{"name": "n"`)
		for i := 0; i < 100000; i++ {
			fmt.Fprintf(&b, `, "unknown_%d": %d`, i, i)
		}
		return b.String() + "}"
	}()
	for _, tc := range []struct{ name, method, path, body, want string }{
		{"a long name", "POST", "/resource_providers", `{"name": "` + long + `"}`, "JSON does not validate: 'xxxxxxxx"},
		{"a long body of the wrong type", "POST", "/resource_providers", `["` + long + `"]`, "JSON does not validate: ['xxxxxxx"},
		{"many unknown keys", "POST", "/resource_providers", manyKeys, "JSON does not validate: Additional properties are not allowed ('unknown_0', "},
		{"a long unknown key", "POST", "/resource_providers", `{"name": "n", "` + long + `": 1}`, "JSON does not validate: Additional properties are not allowed ('xxxx"},
		{"a long query value", "GET", "/allocation_candidates?resources=" + strings.Repeat("V", 500<<10), "", "Badly formed resources parameter"},
		{"a long member_of", "GET", "/resource_providers?member_of=" + strings.Repeat("a", 500<<10), "", "Invalid query string parameters: Expected 'member_of'"},
		{"a long unknown parameter", "GET", "/resource_providers?" + strings.Repeat("z", 500<<10) + "=1", "", "Invalid query string parameters: "},
		{"a long consumer", "PUT", "/allocations/" + strings.Repeat("c", 200<<10), `{}`, "Malformed consumer_uuid: ccc"},
		{"a long trait name filter", "GET", "/traits?name=" + strings.Repeat("t", 200<<10), "", "Badly formatted name parameter"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var body any
			if tc.body != "" {
				body = tc.body
			}
			r := p.Do(tc.method, tc.path, "1.39", body)
			d := errorDetail(r)
			if r.Status != http.StatusBadRequest || !strings.HasPrefix(d, tc.want) {
				t.Fatalf("%d %.300q, want 400 %q", r.Status, d, tc.want)
			}
			if len(d) > 1024 || !strings.Contains(d, "...") {
				t.Errorf("the detail is %d bytes (%.300q...): want a short quote ending with ...", len(d), d)
			}
			if len(r.Body) > 4096 {
				t.Errorf("the answer is %d bytes", len(r.Body))
			}
		})
	}
}

// TestUnstorableStringsAre400 sends strings that PostgreSQL cannot store
// (NUL, invalid UTF-8) in bodies, query parameters and path segments: both
// stores answer the same 400, naming the field, before any store sees them
// (PostgreSQL answered 500 before).
func TestUnstorableStringsAre400(t *testing.T) {
	for _, backend := range testserver.Backends {
		t.Run(backend, func(t *testing.T) {
			p := testserver.StartPlacement(t, testserver.OpenStore(t, backend))
			p.Must(200, "POST", "/resource_providers", "1.39", map[string]any{"name": "rp", "uuid": fuzzRP})
			for _, tc := range []struct{ method, path, body, want string }{
				{"POST", "/resource_providers", `{"name": "a\u0000b"}`, "JSON does not validate: the value of ['name'] contains a NUL character"},
				{"POST", "/resource_providers", `{"name": "x", "\u0000": 1}`, `JSON does not validate: the key ['\x00'] contains a NUL character`},
				{"PUT", "/resource_providers/" + fuzzRP, `{"name": "\u0000"}`, "the value of ['name'] contains a NUL"},
				{"POST", "/resource_classes", `{"name": "CUSTOM_\u0000"}`, "the value of ['name'] contains a NUL"},
				{"PUT", "/allocations/6a7b8c9d-0000-4000-8000-000000000001", `{"allocations": {"` + fuzzRP + `": {"resources": {"VCPU": 1}}},
					"project_id": "p\u0000", "user_id": "u", "consumer_generation": null}`, "the value of ['project_id'] contains a NUL"},
				{"PUT", "/resource_providers/" + fuzzRP + "/traits", `{"traits": ["CUSTOM_\u0000"], "resource_provider_generation": 0}`, "['traits'][0] contains a NUL"},
				{"GET", "/resource_providers?name=a%00b", "", `The value of query parameter "name" contains a NUL character`},
				{"GET", "/resource_providers?name=%ff", "", `The value of query parameter "name" is not valid UTF-8`},
				{"GET", "/usages?project_id=%ff", "", `The value of query parameter "project_id" is not valid UTF-8`},
				{"GET", "/allocation_candidates?resources=VCPU:1&member_of=%00", "", `"member_of" contains a NUL`},
				{"GET", "/resource_providers?%ff=1", "", `The name of query parameter "\xff" is not valid UTF-8`},
				{"GET", "/resource_providers/%ff", "", "The path parameter {uuid} is not valid UTF-8"},
				{"GET", "/resource_providers/a%00b", "", "The path parameter {uuid} contains a NUL"},
				{"GET", "/traits/CUSTOM_%ff", "", "The path parameter {name} is not valid UTF-8"},
				{"PUT", "/traits/CUSTOM_%00", "", "The path parameter {name} contains a NUL"},
				{"GET", "/resource_classes/%ff", "", "The path parameter {name} is not valid UTF-8"},
				{"GET", "/allocations/%ff", "", "The path parameter {consumer} is not valid UTF-8"},
			} {
				var body any
				if tc.body != "" {
					body = tc.body
				}
				r := p.Do(tc.method, tc.path, "1.39", body)
				if d := errorDetail(r); r.Status != http.StatusBadRequest || !strings.Contains(d, tc.want) {
					t.Errorf("%s %s %q: %d %q, want 400 %q", tc.method, tc.path, tc.body, r.Status, d, tc.want)
				}
			}
		})
	}
}

// TestHeaderErrorsQuoteAShortPrefix: errors about a header (microversion,
// content type) quote at most a short prefix of it.
func TestHeaderErrorsQuoteAShortPrefix(t *testing.T) {
	p := testserver.StartPlacement(t, testserver.OpenStore(t, "sqlite"))
	long := strings.Repeat("9", 100<<10)
	for _, tc := range []struct{ name, header, value string }{
		{"microversion", "OpenStack-API-Version", "placement 1." + long},
		{"malformed microversion", "OpenStack-API-Version", "placement x" + long},
		{"content type", "Content-Type", "text/" + long + "; ;"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest("POST", p.URL+"/resource_providers", strings.NewReader(`{"name": "x"}`))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("X-Auth-Token", "admin")
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set(tc.header, tc.value)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var b bytes.Buffer
			b.ReadFrom(resp.Body)
			if resp.StatusCode < 400 || resp.StatusCode >= 500 || b.Len() > 2048 || !strings.Contains(b.String(), "999...") {
				t.Errorf("%d %.300q (%d bytes): want a 4xx quoting a short prefix", resp.StatusCode, b.String(), b.Len())
			}
		})
	}
}
