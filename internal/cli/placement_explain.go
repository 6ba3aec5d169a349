package cli

import (
	"context"
	"fmt"
	"strings"

	"allot/internal/client"
)

// explainCandidates runs "allocation-candidate list --explain": the
// explanation of the query's search as tables (the document itself with
// -f json or -f yaml).
func explainCandidates(ctx context.Context, p *client.Placement, q client.CandidateQuery) (*view, error) {
	ex, err := p.ExplainCandidates(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("explain allocation candidates: %w", err)
	}
	raw, err := decodeDocument(ex.Raw)
	if err != nil {
		return nil, err
	}
	v := explanationView(ex)
	v.raw = raw
	return v, nil
}

// explanationView shows a summary, one table of stages (group stages and
// tree stages per request group, then the trees), and the nearest misses.
func explanationView(ex *client.Explanation) *view {
	var why []string
	if ex.Limited {
		why = append(why, "limit reached")
	}
	if ex.Capped {
		why = append(why, "candidate cap reached")
	}
	if ex.OutOfTime {
		why = append(why, "time budget reached")
	}
	summary := grid{title: "summary", columns: []string{"providers", "trees", "trees with candidates", "candidates", "generated", "stopped"},
		rows: [][]any{{ex.Providers, ex.Trees, ex.TreesWithCandidates, ex.Candidates, ex.Generated, strings.Join(why, ", ")}}}
	stages := grid{title: "removed, per request group and stage", columns: []string{"group", "stage", "removed", "examples"}}
	for _, g := range ex.Groups {
		label := g.Suffix
		if label == "" {
			label = unsuffixedLabel
		}
		stages.rows = append(stages.rows, []any{label, "in candidates", g.InCandidates, ""})
		for _, st := range g.Stages {
			if st.Removed > 0 {
				stages.rows = append(stages.rows, []any{label, st.Stage, st.Removed, examples(st.Examples)})
			}
		}
		for _, st := range g.TreeStages {
			if st.Removed > 0 {
				stages.rows = append(stages.rows, []any{label, "tree: " + st.Stage, st.Removed, examples(st.Examples)})
			}
		}
		if g.NotExamined > 0 {
			stages.rows = append(stages.rows, []any{label, "not examined", g.NotExamined, ""})
		}
	}
	trees := grid{title: "trees", columns: []string{"stage", "trees", "examples"}}
	trees.rows = append(trees.rows, []any{"candidates", ex.TreesWithCandidates, ""})
	for _, st := range ex.TreeStages {
		if st.Removed > 0 {
			trees.rows = append(trees.rows, []any{st.Stage, st.Removed, examples(st.Examples)})
		}
	}
	misses := grid{title: "nearest misses", columns: []string{"#", "root", "stage", "unmet", "shortfall"}}
	for i, m := range ex.NearestMisses {
		misses.rows = append(misses.rows, []any{i + 1, m.Root.Name, m.Stage, lines(m.Unmet), m.Shortfall})
	}
	return &view{tables: []grid{summary, stages, trees, misses}}
}

// examples lists providers by name (their UUID when they have none).
func examples(refs []client.ProviderRef) lines {
	var out lines
	for _, r := range refs {
		if r.Name != "" {
			out = append(out, r.Name)
		} else {
			out = append(out, r.UUID)
		}
	}
	return out
}
