package placementapi_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/google/uuid"

	"allot/internal/testserver"
)

// TestManyValuesInOneRequest: a request naming tens of thousands of
// values (aggregates of a provider, traits of a name=in: filter) is
// answered, not refused by the database's cap on statement parameters
// (SQLite's is 32766), on both stores. Under the race detector, which
// slows the pure-Go SQLite many times, it names a few thousand (several
// chunks of a statement each); scripts/test also runs it without.
func TestManyValuesInOneRequest(t *testing.T) {
	nAggregates, nNames := 40000, 20000
	if raceEnabled {
		nAggregates, nNames = 3000, 2000
	}
	for _, backend := range testserver.Backends {
		t.Run(backend, func(t *testing.T) {
			p := testserver.StartPlacement(t, testserver.OpenStore(t, backend))
			rp := uuid.NewString()
			p.Must(200, "POST", "/resource_providers", "1.20", map[string]any{"name": "many", "uuid": rp})

			aggs := make([]string, nAggregates)
			for i := range aggs {
				aggs[i] = uuid.NewString()
			}
			res := p.Must(200, "PUT", "/resource_providers/"+rp+"/aggregates", "1.19",
				map[string]any{"aggregates": aggs, "resource_provider_generation": 0})
			var got struct {
				Aggregates []string `json:"aggregates"`
				Generation int      `json:"resource_provider_generation"`
			}
			if err := json.Unmarshal(res.Body, &got); err != nil || len(got.Aggregates) != len(aggs) {
				t.Fatalf("%d aggregates set (%v), want %d", len(got.Aggregates), err, len(aggs))
			}
			// Replace them with a few: tens of thousands removed at once.
			res = p.Must(200, "PUT", "/resource_providers/"+rp+"/aggregates", "1.19",
				map[string]any{"aggregates": aggs[:3], "resource_provider_generation": got.Generation})
			if err := json.Unmarshal(res.Body, &got); err != nil || len(got.Aggregates) != 3 {
				t.Fatalf("%d aggregates left (%v), want 3", len(got.Aggregates), err)
			}

			names := make([]string, nNames)
			for i := range names {
				names[i] = fmt.Sprintf("CUSTOM_T%d", i)
			}
			last := names[len(names)-1]
			for _, n := range []string{names[7], last} {
				p.Must(201, "PUT", "/traits/"+n, "1.6", nil)
			}
			res = p.Must(200, "GET", "/traits?name=in:"+strings.Join(names, ","), "1.6", nil)
			var traits struct{ Traits []string }
			if err := json.Unmarshal(res.Body, &traits); err != nil {
				t.Fatal(err)
			}
			if want := []string{last, names[7]}; // sorted by name
			fmt.Sprint(traits.Traits) != fmt.Sprint(want) {
				t.Errorf("name=in: of %d names: %v, want %v", len(names), traits.Traits, want)
			}
		})
	}
}
