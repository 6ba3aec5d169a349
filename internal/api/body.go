package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"allot/internal/model"
)

// RequireJSON checks that the request declares a JSON body, answering 415
// in Placement's words otherwise.
func RequireJSON(r *http.Request) error {
	ct := r.Header.Get("Content-Type")
	mt, _, _ := mime.ParseMediaType(ct)
	if mt == "application/json" {
		return nil
	}
	shown := ct
	if shown == "" {
		shown = "None"
	} else if mt != "" {
		shown = mt
	}
	return model.Errorf(model.KindUnsupportedMediaType, "The media type %s is not supported, use application/json", Clip(shown))
}

// CheckAccept answers 406 when the client's Accept header rules out JSON.
func CheckAccept(r *http.Request) error {
	accept := r.Header.Get("Accept")
	if accept == "" || acceptsJSON(accept) {
		return nil
	}
	return model.Errorf(model.KindNotAcceptable, "Only application/json is provided")
}

// ReadBody reads the whole (size-capped) body.
func ReadBody(r *http.Request) ([]byte, error) {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, err
		}
		return nil, model.BadRequest("cannot read the request body: %v", err)
	}
	return b, nil
}

// DecodeBody parses body as JSON, validates it against schema and decodes
// it into out. Errors are 400s in Placement's words ("Malformed JSON: ...",
// "JSON does not validate: ..."). It returns the generic decoded value too.
func DecodeBody(body []byte, schema *Schema, out any) (any, error) {
	v, err := decodeJSON(body)
	if err != nil {
		if _, ok := model.AsError(err); ok {
			return nil, err // a limit every body obeys (input.go)
		}
		return nil, model.BadRequest("Malformed JSON: %s", jsonErrorText(err))
	}
	if schema != nil {
		if msg := schema.Validate(v); msg != "" {
			return nil, model.BadRequest("JSON does not validate: %s", msg)
		}
	}
	if out != nil {
		norm, err := json.Marshal(normalizeNumbers(v))
		if err != nil {
			return nil, model.BadRequest("Malformed JSON: %v", err)
		}
		if err := json.Unmarshal(norm, out); err != nil {
			return nil, model.BadRequest("JSON does not validate: %s", jsonErrorText(err))
		}
	}
	return v, nil
}

// jsonErrorText words a decoding error for people.
func jsonErrorText(err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return se.Error() + " (at byte " + itoa(int(se.Offset)) + ")"
	}
	if errors.Is(err, io.EOF) {
		return "Expecting value: the body is empty"
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return "the value of " + strings.TrimPrefix(te.Field, ".") + " must be " + te.Type.String()
	}
	return err.Error()
}

// WriteJSON writes v as a JSON response.
func WriteJSON(w http.ResponseWriter, status int, v any) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // "amount >= 1" stays readable, as in Python's json
	if err := enc.Encode(v); err != nil {
		return err
	}
	body := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	w.Header().Set("Content-Type", "application/json")
	// A known length spares clients chunked decoding of large answers.
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, err := w.Write(body)
	return err
}

// WriteEmpty writes a status with no body and no content type.
func WriteEmpty(w http.ResponseWriter, status int) {
	w.Header().Del("Content-Type")
	w.WriteHeader(status)
}

// SetLastModified adds Last-Modified and Cache-Control: no-cache (what
// Placement sends from microversion 1.15).
func SetLastModified(w http.ResponseWriter, t time.Time) {
	if t.IsZero() {
		t = time.Now()
	}
	w.Header().Set("Last-Modified", t.UTC().Format(http.TimeFormat))
	w.Header().Set("Cache-Control", "no-cache")
}
