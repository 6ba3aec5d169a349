package model

// Explanation says what a candidates search removed, stage by stage.
//
// Per group, every provider of the cloud is counted exactly once:
// InCandidates + the Removed of every stage of Stages and TreeStages +
// NotExamined = Providers. Per tree: Candidates trees + the Removed of
// every stage of TreeStages = Trees.
type Explanation struct {
	Providers int `json:"providers"`
	Trees     int `json:"trees"`
	// Candidates is the number of candidates returned, Generated how many
	// were generated before the limit applied.
	Candidates int `json:"candidates"`
	Generated  int `json:"generated"`
	// Why generation stopped early, if it did.
	Limited   bool `json:"limited"`
	Capped    bool `json:"capped"`
	OutOfTime bool `json:"out_of_time"`
	// TreesWithCandidates counts the trees that gave at least one.
	TreesWithCandidates int `json:"trees_with_candidates"`
	// TreeStages count trees by what removed them.
	TreeStages []StageCount       `json:"tree_stages"`
	Groups     []GroupExplanation `json:"groups"`
	// NearestMisses are the trees that came closest, closest first.
	NearestMisses []Miss `json:"nearest_misses"`
}

// GroupExplanation accounts for every provider in one request group.
type GroupExplanation struct {
	Suffix    string `json:"suffix"`
	Providers int    `json:"providers"`
	// InCandidates providers are mapped to the group in some candidate
	// returned.
	InCandidates int `json:"in_candidates"`
	// Passed providers passed every stage of the group under some tree
	// (InCandidates of them, and the others are in TreeStages).
	Passed int `json:"passed"`
	// Stages count the providers each group stage removed.
	Stages []StageCount `json:"stages"`
	// TreeStages count the providers that passed but are in no candidate
	// returned, by what became of their own tree.
	TreeStages []StageCount `json:"tree_stages"`
	// NotExamined providers got no verdict: the search stopped first.
	NotExamined int `json:"not_examined"`
}

// StageCount is what one stage removed, with a few examples.
type StageCount struct {
	Stage    string        `json:"stage"`
	Removed  int           `json:"removed"`
	Examples []ProviderRef `json:"examples"`
}

// ProviderRef names a provider.
type ProviderRef struct {
	UUID string `json:"uuid"`
	Name string `json:"name"`
}

// Miss is a tree that gave no candidate, with what it lacks.
type Miss struct {
	Root ProviderRef `json:"root"`
	// Stage is what removed the tree (a TreeStages name).
	Stage string `json:"stage"`
	// Unmet lists the requirements the tree misses, in words.
	Unmet []string `json:"unmet"`
	// Shortfall is the sum of the missing amounts (all classes).
	Shortfall int64 `json:"shortfall"`
}
