package baremetal

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	jsonpatch "github.com/evanphx/json-patch/v5"

	"allot/internal/model"
)

// applyPatch applies a decoded RFC 6902 patch to doc one operation at a
// time, so a failure names the operation and the member that was missing
// (in Ironic's words) instead of the library's internal message.
func applyPatch(doc []byte, patch jsonpatch.Patch) ([]byte, error) {
	for _, op := range patch {
		next, err := jsonpatch.Patch{op}.Apply(doc)
		if err != nil {
			desc, _ := json.Marshal(op)
			return nil, model.BadRequest("Couldn't apply patch '%s'. Reason: %s", desc, patchFailure(doc, op, err))
		}
		doc = next
	}
	return doc, nil
}

// patchFailure explains why op does not apply to doc.
func patchFailure(doc []byte, op jsonpatch.Operation, err error) string {
	path, perr := op.Path()
	if perr != nil {
		return perr.Error()
	}
	var cur any
	if json.Unmarshal(doc, &cur) != nil {
		return err.Error()
	}
	tokens := strings.Split(strings.TrimPrefix(path, "/"), "/")
	for i, tok := range tokens {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		last := i == len(tokens)-1
		var next any
		found := false
		switch c := cur.(type) {
		case map[string]any:
			next, found = c[tok]
		case []any:
			if n, err := strconv.Atoi(tok); err == nil && n >= 0 && n < len(c) {
				next, found = c[n], true
			} else if last && tok == "-" {
				found = op.Kind() == "add"
			}
		default:
			return fmt.Sprintf("%s is not an object or a list", "/"+strings.Join(tokens[:i], "/"))
		}
		if !found {
			if last && op.Kind() == "add" {
				return err.Error()
			}
			if last {
				return fmt.Sprintf("can't %s a non-existent object '%s'", op.Kind(), tok)
			}
			return fmt.Sprintf("member '%s' not found in /%s", tok, strings.Join(tokens[:i], "/"))
		}
		cur = next
	}
	return err.Error()
}
