package model

import (
	_ "embed"
	"strings"
	"sync"
)

//go:embed catalog/resource-classes.txt
var resourceClassCatalog string

//go:embed catalog/traits.txt
var traitCatalog string

// CustomResourceClassMinID is the first id given to a custom resource class;
// standard classes use their index in the standard catalog.
const CustomResourceClassMinID = 10000

var (
	catalogOnce        sync.Once
	standardClasses    []string
	standardClassIndex map[string]int
	standardTraits     []string
	standardTraitSet   map[string]bool
)

func loadCatalogs() {
	catalogOnce.Do(func() {
		standardClasses = splitLines(resourceClassCatalog)
		standardClassIndex = make(map[string]int, len(standardClasses))
		for i, c := range standardClasses {
			standardClassIndex[c] = i
		}
		standardTraits = splitLines(traitCatalog)
		standardTraitSet = make(map[string]bool, len(standardTraits))
		for _, t := range standardTraits {
			standardTraitSet[t] = true
		}
	})
}

func splitLines(s string) []string {
	var out []string
	for _, line := range strings.Split(s, "\n") {
		line = strings.TrimSpace(line)
		if line != "" && !strings.HasPrefix(line, "#") {
			out = append(out, line)
		}
	}
	return out
}

// StandardResourceClasses returns the standard resource classes in catalog
// order: a class's standard id is its index.
func StandardResourceClasses() []string {
	loadCatalogs()
	return append([]string(nil), standardClasses...)
}

// StandardResourceClassID returns the id of a standard class.
func StandardResourceClassID(name string) (int, bool) {
	loadCatalogs()
	id, ok := standardClassIndex[name]
	return id, ok
}

// StandardTraits returns the standard traits, sorted.
func StandardTraits() []string {
	loadCatalogs()
	return append([]string(nil), standardTraits...)
}

// IsStandardTrait reports whether name is in the standard trait catalog.
func IsStandardTrait(name string) bool {
	loadCatalogs()
	return standardTraitSet[name]
}
