package allot_test

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// allowed lists, for each package, the project packages it may import.
// Dependencies point downward only (DESIGN.md): the CLI wires everything;
// handlers never reach the store; the engine and the query parser do no I/O.
var allowed = map[string][]string{
	"cmd/allot":                 {"internal/cli"},
	"internal/cli":              {"internal/api", "internal/metrics", "internal/engine", "internal/api/placementapi", "internal/client", "internal/model", "internal/placement", "internal/store", "internal/baremetal", "internal/api/baremetalapi", "internal/loadgen", "internal/auth", "internal/policy", "internal/config", "internal/audit", "internal/importer", "internal/console", "internal/cloudgen"},
	"internal/client":           {"internal/model"},
	"internal/loadgen":          {"internal/client", "internal/model"},
	"internal/importer":         {"internal/client", "internal/model"},
	"internal/cloudgen":         {"internal/model", "internal/store"},
	"internal/api":              {"internal/metrics", "internal/model", "internal/policy"},
	"internal/auth":             {"internal/model", "internal/policy"},
	"internal/policy":           {},
	"internal/config":           {"internal/api", "internal/auth", "internal/policy"},
	"internal/api/placementapi": {"internal/api", "internal/auth", "internal/policy", "internal/engine", "internal/model", "internal/placement", "internal/query"},
	"internal/api/baremetalapi": {"internal/api", "internal/policy", "internal/model", "internal/baremetal", "internal/query"},
	"internal/placement":        {"internal/engine", "internal/metrics", "internal/model", "internal/query", "internal/store"},
	"internal/baremetal":        {"internal/engine", "internal/metrics", "internal/model", "internal/placement", "internal/query", "internal/store"},
	"internal/audit":            {"internal/baremetal", "internal/model", "internal/placement", "internal/store"},
	"internal/engine":           {"internal/model", "internal/query"},
	"internal/query":            {"internal/model"},
	"internal/store":            {"internal/metrics", "internal/model"},
	"internal/metrics":          {"internal/model"}, // every series; the parts that count import it
	"internal/model":            {},
	"internal/store/storetest":  {"internal/model", "internal/store"},
	"internal/testpg":           {},
	"internal/cputime":          {},
	"internal/console":          {}, // static files: standard library only
	"scripts/replay":            {}, // a measuring aid: standard library only
	"scripts/testreport":        {}, // the test command's report: standard library only
	"internal/testserver":       {"internal/api", "internal/api/placementapi", "internal/api/baremetalapi", "internal/baremetal", "internal/placement", "internal/model", "internal/store", "internal/testpg"},
}

// forbiddenStd names standard or third-party imports a package must not use.
var forbiddenStd = map[string][]string{
	"internal/engine":    {"database/sql", "net/http", "os", "io/ioutil"},
	"internal/query":     {"database/sql", "net/http", "os"},
	"internal/model":     {"database/sql", "net/http", "os"},
	"internal/importer":  {"database/sql", "os"},
	"internal/placement": {"net/http", "database/sql"},
	"internal/api":       {"database/sql"},
	"internal/policy":    {"database/sql", "net/http"},
}

func TestImportRules(t *testing.T) {
	const module = "allot/"
	pkgs := map[string]map[string]bool{}
	err := filepath.Walk(".", func(path string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		if info.IsDir() && (strings.HasPrefix(info.Name(), ".") && path != "." || info.Name() == "testdata") {
			return filepath.SkipDir
		}
		if info.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		dir := filepath.ToSlash(filepath.Dir(path))
		if dir == "." {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		if pkgs[dir] == nil {
			pkgs[dir] = map[string]bool{}
		}
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			pkgs[dir][p] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var dirs []string
	for d := range pkgs {
		dirs = append(dirs, d)
	}
	sort.Strings(dirs)
	for _, dir := range dirs {
		rules, known := allowed[dir]
		if !known && !strings.HasPrefix(dir, "e2e") {
			t.Errorf("package %s has no import rule in deps_test.go: add one", dir)
			continue
		}
		ok := map[string]bool{}
		for _, r := range rules {
			ok[module+r] = true
		}
		for imp := range pkgs[dir] {
			if strings.HasPrefix(imp, module) && known && !ok[imp] {
				t.Errorf("%s imports %s, which DESIGN.md's layering forbids", dir, imp)
			}
			if strings.HasPrefix(dir, "internal/api") && imp == module+"internal/store" {
				t.Errorf("%s imports the store: handlers speak to services in model types, and only services know the store", dir)
			}
			for _, bad := range forbiddenStd[dir] {
				if imp == bad {
					t.Errorf("%s imports %s: it must stay free of that kind of I/O", dir, imp)
				}
			}
		}
	}
}

// TestPackageDocs checks that every package has a doc comment.
func TestPackageDocs(t *testing.T) {
	documented := map[string]bool{}
	seen := map[string]bool{}
	filepath.Walk(".", func(path string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		dir := filepath.Dir(path)
		if dir == "." {
			return nil
		}
		seen[dir] = true
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.PackageClauseOnly|parser.ParseComments)
		if err == nil && f.Doc != nil && strings.TrimSpace(f.Doc.Text()) != "" {
			documented[dir] = true
		}
		return nil
	})
	for dir := range seen {
		if !documented[dir] {
			t.Errorf("package %s has no package doc comment", dir)
		}
	}
}
