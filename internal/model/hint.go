package model

import (
	"fmt"
	"sort"
	"strings"
)

// Hints: what an error adds for a person, after the API's own wording
// (which clients and Placement's tests may depend on, so it is kept as it
// is). Every hint of both APIs and the CLI is worded here.

// WithHint returns a copy of e with hint, a sentence saying what to do
// next, after any hint it has ("" leaves e as it is). The message itself,
// the API's wording, is kept as it is.
func (e *Error) WithHint(hint string) *Error {
	if hint == "" {
		return e
	}
	c := *e
	c.Hint = joinSentences(c.Hint, hint)
	return &c
}

// Detail is what a person reads: the message, then the hint.
func (e *Error) Detail() string {
	return joinSentences(e.Message, e.Hint)
}

// joinSentences joins two texts with a space, ending the first with a
// period when it ends with no punctuation.
func joinSentences(a, b string) string {
	a = strings.TrimRight(a, " ")
	switch {
	case b == "":
		return a
	case a == "":
		return b
	case strings.ContainsAny(a[len(a)-1:], ".?!)"):
		return a + " " + b
	}
	return a + ". " + b
}

// AddHint adds hint to err when it is an *Error (see WithHint); other
// errors are returned as they are.
func AddHint(err error, hint string) error {
	if e, ok := err.(*Error); ok {
		return e.WithHint(hint)
	}
	return err
}

// maxSuggestions bounds the names one hint offers.
const maxSuggestions = 3

// Suggest returns the known names closest to word in edit distance
// (ignoring case), nearest first and then alphabetically, at most three:
// those close enough to read as a typo of word. The shared CUSTOM_ prefix
// of custom names is not counted; what remains may differ by at most a
// quarter of its length (and at least one edit), and never entirely.
func Suggest(word string, known []string) []string {
	type near struct {
		name string
		d    int
	}
	var found []near
	for _, k := range known {
		if k == word {
			continue
		}
		a, b := strings.ToUpper(word), strings.ToUpper(k)
		if strings.HasPrefix(a, CustomPrefix) && strings.HasPrefix(b, CustomPrefix) {
			a, b = a[len(CustomPrefix):], b[len(CustomPrefix):]
		}
		n := len([]rune(a))
		limit := min(max(1, n/4), n-1)
		if limit < 1 && n > 0 {
			continue
		}
		if d := editDistance(a, b, limit); d <= limit {
			found = append(found, near{k, d})
		}
	}
	sort.Slice(found, func(i, j int) bool {
		if found[i].d != found[j].d {
			return found[i].d < found[j].d
		}
		return found[i].name < found[j].name
	})
	out := make([]string, 0, min(len(found), maxSuggestions))
	for i := 0; i < len(found) && i < maxSuggestions; i++ {
		out = append(out, found[i].name)
	}
	return out
}

// editDistance is the Levenshtein distance of a and b, or limit+1 as soon
// as it is known to exceed limit.
func editDistance(a, b string, limit int) int {
	ra, rb := []rune(a), []rune(b)
	if d := len(ra) - len(rb); d > limit || -d > limit {
		return limit + 1
	}
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		best := cur[0]
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			best = min(best, cur[j])
		}
		if best > limit {
			return limit + 1
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

// DidYouMean words suggestions as a question ("" for none).
func DidYouMean(suggestions []string) string {
	switch len(suggestions) {
	case 0:
		return ""
	case 1:
		return "Did you mean " + suggestions[0] + "?"
	}
	return "Did you mean " + strings.Join(suggestions[:len(suggestions)-1], ", ") + " or " + suggestions[len(suggestions)-1] + "?"
}

// SuggestNames is DidYouMean over the suggestions for each unknown name
// (each name once, in the order given).
func SuggestNames(unknown, known []string) string {
	var all []string
	seen := map[string]bool{}
	for _, u := range unknown {
		for _, s := range Suggest(u, known) {
			if !seen[s] {
				seen[s] = true
				all = append(all, s)
			}
		}
	}
	if len(all) > maxSuggestions {
		all = all[:maxSuggestions]
	}
	return DidYouMean(all)
}

// HintMicroversion tells a client that what it asked for exists from
// microversion min on: what (e.g. "GET /allocation_candidates"), the
// version range the server serves, and the header to send.
func HintMicroversion(what string, min, max Version, header string) string {
	return fmt.Sprintf("%s needs API microversion %s or later (this server serves up to %s): send the header %q.", what, min, max, header)
}

// HintCapacity words a claim over capacity: the class, the provider (its
// name when it has one besides its UUID), what was asked, what is in use
// of how much, and so what is free.
func HintCapacity(class, provider string, requested, used int64, inv Inventory) string {
	capacity := inv.Capacity()
	free := max(capacity-used, 0)
	return fmt.Sprintf("(%s on %s: %d requested, %d of %d in use, %d free; capacity is (total %d - reserved %d) x allocation_ratio %g.) Ask for at most %d, or choose another provider from GET /allocation_candidates.",
		class, provider, requested, used, capacity, free, inv.Total, inv.Reserved, inv.AllocationRatio, free)
}

// HintUnitConstraints words a claim that breaks an inventory's min_unit,
// max_unit or step_size.
func HintUnitConstraints(class, provider string, requested int64, inv Inventory) string {
	return fmt.Sprintf("(%s on %s: %d requested; each allocation must be between min_unit %d and max_unit %d, in steps of step_size %d.)",
		class, provider, requested, inv.MinUnit, inv.MaxUnit, inv.StepSize)
}

// ProviderLabel names a provider for a person: its name and UUID, or its
// UUID alone when the name is the UUID or empty.
func ProviderLabel(uuid, name string) string {
	if name == "" || name == uuid {
		return uuid
	}
	return fmt.Sprintf("%q (%s)", name, uuid)
}

// Next steps of conflicts.
const (
	// HintRetryProvider follows a resource provider generation conflict.
	HintRetryProvider = "Another writer changed the resource provider first: read it again (GET /resource_providers/{uuid}) for its current generation and retry."
	// HintRetryConsumer follows a consumer generation conflict.
	// HintInventoryInUse follows a refusal to delete an inventory that
	// allocations use.
	HintInventoryInUse = "Remove the allocations of that class on the provider first (allot placement resource-provider show PROVIDER --allocations lists them), or move them with POST /reshaper."
	HintRetryConsumer  = "Another writer changed the consumer first: read its allocations again (GET /allocations/{consumer_uuid}) for its current consumer_generation and retry."
)
