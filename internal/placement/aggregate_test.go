package placement_test

import (
	"slices"
	"testing"

	"allot/internal/model"
)

func TestSetProviderAggregates(t *testing.T) {
	const (
		aggA = "aaaaaaaa-0000-4000-8000-00000000000a"
		aggB = "bbbbbbbb-0000-4000-8000-00000000000b"
		aggC = "cccccccc-0000-4000-8000-00000000000c"
	)
	gen := func(n int64) *int64 { return &n }
	staleGen := conflict(model.CodeConcurrentUpdate, "Resource provider's generation already changed. Please update the generation and try again.")
	// Each case starts from a provider of generation 0 in aggA and aggB.
	cases := []struct {
		name       string
		uuid       string
		generation *int64 // nil: before 1.19, neither checked nor bumped
		aggregates []string
		want       failure
		wantAggs   []string
		wantGen    int64
	}{
		{"replace from 1.19", uuidRoot, gen(0), []string{aggB, aggC}, success, []string{aggB, aggC}, 1},
		{"replace before 1.19", uuidRoot, nil, []string{aggC}, success, []string{aggC}, 0},
		{"clear", uuidRoot, gen(0), []string{}, success, nil, 1},
		{"stored normalised", uuidRoot, gen(0), []string{"CCCCCCCC00004000800000000000000C"}, success, []string{aggC}, 1},
		{"stale generation", uuidRoot, gen(7), []string{aggC}, staleGen, []string{aggA, aggB}, 0},
		{"unknown provider", uuidNone, gen(0), []string{aggC}, notFound("No resource provider with uuid " + uuidNone + " found"), []string{aggA, aggB}, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			svc, ctx := newService(t)
			mustProvider(t, svc, uuidRoot, "root", "")
			if _, err := svc.SetProviderAggregates(ctx, uuidRoot, nil, []string{aggA, aggB}, nil); err != nil {
				t.Fatal(err)
			}
			_, err := svc.SetProviderAggregates(ctx, c.uuid, c.generation, c.aggregates, nil)
			checkFailure(t, err, c.want)
			pa, err := svc.GetProviderAggregates(ctx, uuidRoot)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(pa.Aggregates, c.wantAggs) || pa.Provider.Generation != c.wantGen {
				t.Errorf("aggregates %v at generation %d, want %v at %d", pa.Aggregates, pa.Provider.Generation, c.wantAggs, c.wantGen)
			}
		})
	}
}

func TestGetProviderAggregatesUnknown(t *testing.T) {
	svc, ctx := newService(t)
	_, err := svc.GetProviderAggregates(ctx, uuidNone)
	checkFailure(t, err, notFound("No resource provider with uuid "+uuidNone+" found"))
}
