package client

import (
	"net/http"
	"testing"
)

func TestAPIErrorBodies(t *testing.T) {
	cases := []struct {
		name   string
		status int
		body   string
		want   string
		code   string
	}{
		{"placement (OpenStack)", 404, `{"errors": [{"status": 404, "title": "Not Found", "detail": "The resource could not be found.\n\n No resource provider with uuid X found  ", "code": "placement.undefined_code", "request_id": "req-1"}]}`,
			"No resource provider with uuid X found (HTTP 404)", "placement.undefined_code"},
		{"placement (allot)", 409, `{"errors":[{"code":"placement.concurrent_update","detail":"generation conflict","request_id":"req-2","status":409,"title":"Conflict"}]}`,
			"generation conflict (HTTP 409, placement.concurrent_update)", "placement.concurrent_update"},
		{"placement, several", 400, `{"errors":[{"detail":"a"},{"detail":"b"}]}`, "a; b (HTTP 400)", ""},
		{"placement, detail is only the generic line", 400, `{"errors":[{"title":"Bad Request","detail":"The server could not comply with the request since it is either malformed or otherwise incorrect."}]}`,
			"The server could not comply with the request since it is either malformed or otherwise incorrect. (HTTP 400)", ""},
		{"ironic string", 404, `{"error_message": "{\"faultcode\": \"Client\", \"faultstring\": \"Node abc could not be found.\", \"debuginfo\": null}"}`,
			"Node abc could not be found. (HTTP 404)", ""},
		{"ironic version gate", 404, `{"error_message": "{\"code\": 404, \"title\": \"Not Found\", \"description\": \"The API version does not allow allocations\"}"}`,
			"The API version does not allow allocations (HTTP 404)", ""},
		{"ironic version gate, no description", 404, `{"error_message": "{\"code\": 404, \"title\": \"Not Found\", \"description\": \"\"}"}`,
			"Not Found (HTTP 404)", ""},
		{"ironic object", 409, `{"error_message": {"faultstring": "Node is locked"}}`, "Node is locked (HTTP 409)", ""},
		{"text", 502, "<html>Bad gateway</html>\n", "<html>Bad gateway</html> (HTTP 502)", ""},
		{"empty", 500, "", "Internal Server Error (HTTP 500)", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newAPIError("GET", "http://x/y", c.status, http.Header{}, []byte(c.body))
			if got := e.Error(); got != c.want {
				t.Errorf("Error() = %q, want %q", got, c.want)
			}
			if e.Code != c.code {
				t.Errorf("Code = %q, want %q", e.Code, c.code)
			}
		})
	}
}
