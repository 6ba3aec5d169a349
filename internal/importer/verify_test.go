package importer_test

import (
	"testing"

	"allot/internal/client"
	"allot/internal/importer"
	"allot/internal/model"
)

// snapshot is a one-provider, one-consumer snapshot to change in each case.
func snapshot() *importer.Snapshot {
	return &importer.Snapshot{
		Version: model.V(1, 39),
		Classes: []string{"CUSTOM_A"},
		Traits:  []string{"CUSTOM_T"},
		Providers: map[string]*importer.Provider{"rp": {
			UUID: "rp", Name: "host", Parent: "root", Generation: 3,
			Inventories: map[string]client.Inventory{"VCPU": {Total: 8, MinUnit: 1, MaxUnit: 8, StepSize: 1, AllocationRatio: 4}},
			Usages:      map[string]int64{"VCPU": 2},
			Traits:      []string{"CUSTOM_T"},
			Aggregates:  []string{"agg"},
		}},
		Consumers: map[string]*importer.Consumer{"c": {
			UUID: "c", ProjectID: "p", UserID: "u", Type: "INSTANCE",
			Allocations: map[string]map[string]int64{"rp": {"VCPU": 2}},
		}},
	}
}

func TestCompare(t *testing.T) {
	gen := int64(9)
	for _, tc := range []struct {
		name   string
		change func(s *importer.Snapshot)
		want   []importer.Difference
	}{
		{"same", func(*importer.Snapshot) {}, nil},
		{"generations are not differences", func(s *importer.Snapshot) {
			s.Providers["rp"].Generation = 7
			s.Consumers["c"].Generation = &gen
		}, nil},
		{"class", func(s *importer.Snapshot) { s.Classes = nil },
			[]importer.Difference{{Object: "resource class CUSTOM_A", Field: "exists", Source: "yes", Target: "no"}}},
		{"trait", func(s *importer.Snapshot) { s.Traits = append(s.Traits, "CUSTOM_U") },
			[]importer.Difference{{Object: "trait CUSTOM_U", Field: "exists", Source: "no", Target: "yes"}}},
		{"provider missing", func(s *importer.Snapshot) { delete(s.Providers, "rp") },
			[]importer.Difference{{Object: "resource provider rp (host)", Field: "exists", Source: "yes", Target: "no"}}},
		{"name and parent", func(s *importer.Snapshot) { s.Providers["rp"].Name, s.Providers["rp"].Parent = "other", "" },
			[]importer.Difference{
				{Object: "resource provider rp (host)", Field: "name", Source: "host", Target: "other"},
				{Object: "resource provider rp (host)", Field: "parent", Source: "root", Target: "-"}}},
		{"inventory fields", func(s *importer.Snapshot) {
			s.Providers["rp"].Inventories["VCPU"] = client.Inventory{Total: 8, Reserved: 1, MinUnit: 1, MaxUnit: 8, StepSize: 1, AllocationRatio: 1.5}
		}, []importer.Difference{
			{Object: "resource provider rp (host)", Field: "inventory VCPU reserved", Source: "0", Target: "1"},
			{Object: "resource provider rp (host)", Field: "inventory VCPU allocation_ratio", Source: "4", Target: "1.5"}}},
		{"inventory missing", func(s *importer.Snapshot) { delete(s.Providers["rp"].Inventories, "VCPU") },
			[]importer.Difference{{Object: "resource provider rp (host)", Field: "inventory VCPU",
				Source: "total=8,reserved=0,min_unit=1,max_unit=8,step_size=1,allocation_ratio=4", Target: "-"}}},
		{"usage", func(s *importer.Snapshot) { s.Providers["rp"].Usages["VCPU"] = 0 },
			[]importer.Difference{{Object: "resource provider rp (host)", Field: "usage VCPU", Source: "2", Target: "0"}}},
		{"provider traits and aggregates", func(s *importer.Snapshot) {
			s.Providers["rp"].Traits = []string{"HW_X"}
			s.Providers["rp"].Aggregates = nil
		}, []importer.Difference{
			{Object: "resource provider rp (host)", Field: "trait CUSTOM_T", Source: "yes", Target: "no"},
			{Object: "resource provider rp (host)", Field: "trait HW_X", Source: "no", Target: "yes"},
			{Object: "resource provider rp (host)", Field: "aggregate agg", Source: "yes", Target: "no"}}},
		{"consumer missing", func(s *importer.Snapshot) { delete(s.Consumers, "c") },
			[]importer.Difference{{Object: "consumer c", Field: "exists", Source: "yes", Target: "no"}}},
		{"consumer fields", func(s *importer.Snapshot) {
			c := s.Consumers["c"]
			c.ProjectID, c.UserID, c.Type = "p2", "u2", "MIGRATION"
			c.Allocations = map[string]map[string]int64{"rp": {"VCPU": 3, "MEMORY_MB": 5}}
		}, []importer.Difference{
			{Object: "consumer c", Field: "project", Source: "p", Target: "p2"},
			{Object: "consumer c", Field: "user", Source: "u", Target: "u2"},
			{Object: "consumer c", Field: "consumer type", Source: "INSTANCE", Target: "MIGRATION"},
			{Object: "consumer c", Field: "allocation rp MEMORY_MB", Source: "-", Target: "5"},
			{Object: "consumer c", Field: "allocation rp VCPU", Source: "2", Target: "3"}}},
		{"types unknown below 1.38", func(s *importer.Snapshot) {
			s.Version = model.V(1, 37)
			s.Consumers["c"].Type = ""
		}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			to := snapshot()
			tc.change(to)
			got := importer.Compare(snapshot(), to)
			if len(got) != len(tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Errorf("difference %d: got %v, want %v", i, got[i], tc.want[i])
				}
			}
		})
	}
}
