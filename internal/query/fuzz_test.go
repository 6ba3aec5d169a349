package query

import (
	"fmt"
	"strconv"
	"strings"
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

// FuzzParseCandidates: no query string makes the allocation-candidates
// parser panic, every rejection is a 400 with a message, and what parses
// has one group per suffix, each with resources or (1.36+) named in
// same_subtree.
func FuzzParseCandidates(f *testing.F) {
	for _, seed := range []string{
		"resources=VCPU:1", "resources=VCPU:1&limit=10", "resources1=VCPU:1&resources2=VGPU:1&group_policy=isolate",
		"resources_A=VCPU:1&required_B=X&same_subtree=_A,_B", "resources=VCPU:1&root_required=A,!A",
		"resources=VCPU:1&required=A,!A", "resources=VCPU:1&member_of=in:a,b&member_of=!c",
		"resources=VCPU:1&in_tree=nope", "same_subtree=,&resources=VCPU:1", "required1=A&resources=DISK_GB:1",
		"resources1=A:1&resources2=A:1&resources3=A:1&resources4=A:1&resources5=A:1&resources6=A:1&resources7=A:1&resources8=A:1&resources9=A:1&resources1=B:1&group_policy=none",
	} {
		f.Add(seed, 39)
		f.Add(seed, 24)
	}
	f.Fuzz(func(t *testing.T, raw string, minor int) {
		v := model.V(1, ((minor%40)+40)%40)
		p, err := ParseParams(raw)
		if err != nil {
			return
		}
		c, err := ParseCandidates(p, v)
		if err != nil {
			e, ok := model.AsError(err)
			if !ok || e.Kind != model.KindBadRequest || e.Message == "" {
				t.Fatalf("ParseCandidates(%q) at %s: %v is not a 400 with a message", raw, v, err)
			}
			return
		}
		seen := map[string]bool{}
		for _, g := range c.Groups {
			if seen[g.Suffix] {
				t.Fatalf("ParseCandidates(%q) at %s: suffix %q twice", raw, v, g.Suffix)
			}
			seen[g.Suffix] = true
		}
	})
}

// Groups are merged by suffix and kept in the order of first appearance,
// however many there are (few are found by scanning, many through a map).
func TestParseCandidatesGroupOrder(t *testing.T) {
	for _, n := range []int{1, groupsScanned, groupsScanned + 1, 3 * groupsScanned} {
		var parts []string
		for i := n; i >= 1; i-- {
			parts = append(parts, fmt.Sprintf("resources%d=VCPU:%d", i, i))
		}
		for i := 1; i <= n; i++ {
			parts = append(parts, fmt.Sprintf("required%d=CUSTOM_T%d", i, i))
		}
		parts = append(parts, "group_policy=none")
		p, err := ParseParams(strings.Join(parts, "&"))
		if err != nil {
			t.Fatal(err)
		}
		c, err := ParseCandidates(p, model.V(1, 39))
		if err != nil {
			t.Fatalf("%d groups: %v", n, err)
		}
		if len(c.Groups) != n {
			t.Fatalf("%d groups parsed as %d", n, len(c.Groups))
		}
		for k, g := range c.Groups {
			i := n - k
			if g.Suffix != strconv.Itoa(i) || len(g.Resources) != 1 || g.Resources[0].Amount != int64(i) ||
				len(g.Required.AllOf) != 1 || g.Required.AllOf[0][0] != fmt.Sprintf("CUSTOM_T%d", i) {
				t.Fatalf("%d groups: group %d is %+v", n, k, g)
			}
		}
	}
}
