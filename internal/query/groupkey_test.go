package query

import (
	"regexp"
	"strings"
	"testing"
)

// groupKeyPatterns are the regular expressions splitGroupKey stands for,
// as SPEC B.1 and Placement's schemas write them.
var groupKeyPatterns = map[groupKeyForm]*regexp.Regexp{
	unsuffixedKeys:  regexp.MustCompile(`^(resources|required|member_of|in_tree)()$`),
	numericSuffixes: regexp.MustCompile(`^(resources|required|member_of|in_tree)([1-9][0-9]*)?$`),
	stringSuffixes:  regexp.MustCompile(`^(resources|required|member_of|in_tree)([a-zA-Z0-9_-]{1,64})?$`),
}

// checkSplitGroupKey fails when splitGroupKey reads key otherwise than the
// regular expression of its form.
func checkSplitGroupKey(t *testing.T, key string, form groupKeyForm) {
	t.Helper()
	prefix, suffix, ok := splitGroupKey(key, form)
	m := groupKeyPatterns[form].FindStringSubmatch(key)
	if ok != (m != nil) || (m != nil && (prefix != m[1] || suffix != m[2])) {
		t.Fatalf("splitGroupKey(%q, %d) = %q, %q, %v; the pattern reads %q", key, form, prefix, suffix, ok, m)
	}
}

func TestSplitGroupKey(t *testing.T) {
	keys := []string{
		"resources", "required", "member_of", "in_tree", "resources1", "required42", "member_of10",
		"in_tree_NIC", "resources_CPU", "resources0", "resources01", "resources-", "resources_",
		"resources" + strings.Repeat("x", 64), "resources" + strings.Repeat("x", 65), "resource",
		"resourcesé", "resources1a", "limit", "group_policy", "same_subtree", "root_required", "",
		"re", "requiredresources", "in_tree\n", "member_of ", "RESOURCES",
	}
	for _, form := range []groupKeyForm{unsuffixedKeys, numericSuffixes, stringSuffixes} {
		for _, key := range keys {
			checkSplitGroupKey(t, key, form)
		}
	}
}

func FuzzSplitGroupKey(f *testing.F) {
	for _, k := range []string{"resources", "required_NIC", "member_of1", "in_tree-x", "limit"} {
		f.Add(k)
	}
	f.Fuzz(func(t *testing.T, key string) {
		for _, form := range []groupKeyForm{unsuffixedKeys, numericSuffixes, stringSuffixes} {
			checkSplitGroupKey(t, key, form)
		}
	})
}
