package query

import (
	"testing"

	"allot/internal/model"
)

// FuzzParseProviderList: no query string makes the parser panic, and every
// rejection is a 400 with a message.
func FuzzParseProviderList(f *testing.F) {
	for _, seed := range []string{
		"", "name=x", "uuid=5d3a57f8-3c5f-4c6e-9d43-7b3f1b1e0b11", "resources=VCPU:1,MEMORY_MB:512",
		"resources=VCPU:-1", "resources=VCPU", "member_of=in:5d3a57f8-3c5f-4c6e-9d43-7b3f1b1e0b11,!x",
		"member_of=!in:5d3a57f8-3c5f-4c6e-9d43-7b3f1b1e0b11", "required=in:A,B&required=!C", "required=!!!X",
		"in_tree=nope", "%zz=1", "a=%", "required=,", "resources=:,:",
	} {
		f.Add(seed, 39)
	}
	f.Fuzz(func(t *testing.T, raw string, minor int) {
		v := model.V(1, ((minor%40)+40)%40)
		p, err := ParseParams(raw)
		if err != nil {
			if !model.IsKind(err, model.KindBadRequest) {
				t.Fatalf("ParseParams(%q): %v is not a 400", raw, err)
			}
			return
		}
		_, err = ParseProviderList(p, v)
		if err != nil {
			e, ok := model.AsError(err)
			if !ok || e.Kind != model.KindBadRequest || e.Message == "" {
				t.Fatalf("ParseProviderList(%q) at %s: %v is not a 400 with a message", raw, v, err)
			}
		}
	})
}

// FuzzParseTraitValue: any value parses or is refused with a 400, and what
// parses never holds an empty trait name.
func FuzzParseTraitValue(f *testing.F) {
	for _, seed := range []string{"A,B", "!A", "in:A,B", "in:", "in:!A", ",", "!!", " A , !B "} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, val string) {
		e, err := ParseTraitValue(val, true, true)
		if err != nil {
			if !model.IsKind(err, model.KindBadRequest) {
				t.Fatalf("%q: %v", val, err)
			}
			return
		}
		for _, n := range e.Names() {
			if n == "" {
				t.Fatalf("%q parsed to an empty trait: %+v", val, e)
			}
		}
	})
}
