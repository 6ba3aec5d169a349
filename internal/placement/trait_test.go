package placement_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"allot/internal/model"
	"allot/internal/placement"
)

// mustTraits creates custom traits.
func mustTraits(t *testing.T, svc *placement.Service, names ...string) {
	t.Helper()
	for _, n := range names {
		if _, _, err := svc.EnsureTrait(context.Background(), n); err != nil {
			t.Fatalf("creating trait %s: %v", n, err)
		}
	}
}

func traitNameList(ts []model.Trait) []string {
	out := make([]string, len(ts))
	for i, tr := range ts {
		out[i] = tr.Name
	}
	return out
}

func TestEnsureTrait(t *testing.T) {
	svc, ctx := newService(t)
	for i, wantCreated := range []bool{true, false} {
		tr, created, err := svc.EnsureTrait(ctx, "CUSTOM_GOLD")
		if err != nil || created != wantCreated || tr.Name != "CUSTOM_GOLD" {
			t.Errorf("call %d: %+v created=%v %v, want created=%v", i+1, tr, created, err, wantCreated)
		}
	}
	if _, err := svc.GetTrait(ctx, "CUSTOM_GOLD"); err != nil {
		t.Error(err)
	}
	_, err := svc.GetTrait(ctx, "CUSTOM_SILVER")
	checkFailure(t, err, notFound("No such trait(s): CUSTOM_SILVER."))
}

func TestDeleteTrait(t *testing.T) {
	cases := []struct {
		name, trait string
		want        failure
	}{
		{"unused custom", "CUSTOM_FREE", success},
		{"in use", "CUSTOM_USED", failure{kind: model.KindConflict, msg: "The trait CUSTOM_USED is in use by a resource provider."}},
		{"standard", "HW_CPU_X86_AVX2", badRequest("Cannot delete standard trait HW_CPU_X86_AVX2.")},
		{"unknown", "CUSTOM_NONE", notFound("No such trait(s): CUSTOM_NONE.")},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			svc, ctx := newService(t)
			mustTraits(t, svc, "CUSTOM_FREE", "CUSTOM_USED")
			mustProvider(t, svc, uuidRoot, "root", "")
			if _, err := svc.SetProviderTraits(ctx, uuidRoot, 0, []string{"CUSTOM_USED"}); err != nil {
				t.Fatal(err)
			}
			err := svc.DeleteTrait(ctx, c.trait)
			checkFailure(t, err, c.want)
			_, getErr := svc.GetTrait(ctx, c.trait)
			if gone := model.IsKind(getErr, model.KindNotFound); gone != (err == nil || c.trait == "CUSTOM_NONE") {
				t.Errorf("after delete: %v", getErr)
			}
		})
	}
}

func TestListTraits(t *testing.T) {
	svc, ctx := newService(t)
	mustTraits(t, svc, "CUSTOM_A", "CUSTOM_B", "CUSTOM_C")
	mustProvider(t, svc, uuidRoot, "root", "")
	if _, err := svc.SetProviderTraits(ctx, uuidRoot, 0, []string{"CUSTOM_B", "HW_CPU_X86_AVX2"}); err != nil {
		t.Fatal(err)
	}
	yes, no := true, false
	cases := []struct {
		name   string
		filter model.TraitFilter
		want   []string
	}{
		{"names", model.TraitFilter{Names: []string{"CUSTOM_C", "CUSTOM_A", "CUSTOM_NONE"}}, []string{"CUSTOM_A", "CUSTOM_C"}},
		{"prefix", model.TraitFilter{Prefix: "CUSTOM_"}, []string{"CUSTOM_A", "CUSTOM_B", "CUSTOM_C"}},
		{"associated", model.TraitFilter{Associated: &yes}, []string{"CUSTOM_B", "HW_CPU_X86_AVX2"}},
		{"custom, not associated", model.TraitFilter{Prefix: "CUSTOM_", Associated: &no}, []string{"CUSTOM_A", "CUSTOM_C"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ts, err := svc.ListTraits(ctx, c.filter)
			if err != nil {
				t.Fatal(err)
			}
			if got := traitNameList(ts); !slices.Equal(got, c.want) {
				t.Errorf("traits %v, want %v", got, c.want)
			}
		})
	}
	all, err := svc.ListTraits(ctx, model.TraitFilter{})
	if err != nil || len(all) <= 3 || !slices.IsSortedFunc(all, func(a, b model.Trait) int { return strings.Compare(a.Name, b.Name) }) {
		t.Errorf("all traits: %d, sorted=%v, %v", len(all), err == nil, err)
	}
}

// TestSetProviderTraits starts from a provider at generation 0 with
// CUSTOM_A: a change bumps the generation once, setting the same traits
// does not, and a refused write changes nothing.
func TestSetProviderTraits(t *testing.T) {
	staleGen := conflict(model.CodeConcurrentUpdate, "Resource provider's generation already changed. Please update the generation and try again.")
	cases := []struct {
		name       string
		uuid       string
		generation int64 // the generation the caller saw (1 is current)
		traits     []string
		want       failure
		wantTraits []string
		wantGen    int64
	}{
		{"replace", uuidRoot, 1, []string{"CUSTOM_B", "HW_CPU_X86_AVX2"}, success, []string{"CUSTOM_B", "HW_CPU_X86_AVX2"}, 2},
		{"unchanged", uuidRoot, 1, []string{"CUSTOM_A"}, success, []string{"CUSTOM_A"}, 1},
		{"clear", uuidRoot, 1, nil, success, []string{}, 2},
		{"stale generation", uuidRoot, 0, []string{"CUSTOM_B"}, staleGen, []string{"CUSTOM_A"}, 1},
		{"unknown traits", uuidRoot, 1, []string{"CUSTOM_Z", "CUSTOM_B", "CUSTOM_Y"}, badRequest("No such trait CUSTOM_Y, CUSTOM_Z"), []string{"CUSTOM_A"}, 1},
		{"unknown provider", uuidNone, 1, []string{"CUSTOM_B"}, notFound("No resource provider with uuid " + uuidNone + " found"), []string{"CUSTOM_A"}, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			svc, ctx := newService(t)
			mustTraits(t, svc, "CUSTOM_A", "CUSTOM_B")
			mustProvider(t, svc, uuidRoot, "root", "")
			if _, err := svc.SetProviderTraits(ctx, uuidRoot, 0, []string{"CUSTOM_A"}); err != nil {
				t.Fatal(err)
			}
			_, err := svc.SetProviderTraits(ctx, c.uuid, c.generation, c.traits)
			checkFailure(t, err, c.want)
			pt, err := svc.GetProviderTraits(ctx, uuidRoot)
			if err != nil {
				t.Fatal(err)
			}
			if got := traitNameList(pt.Traits); !slices.Equal(got, c.wantTraits) || pt.Provider.Generation != c.wantGen {
				t.Errorf("traits %v at generation %d, want %v at %d", got, pt.Provider.Generation, c.wantTraits, c.wantGen)
			}
		})
	}
}

func TestDeleteProviderTraits(t *testing.T) {
	cases := []struct {
		name    string
		initial []string
		wantGen int64
	}{
		{"with traits", []string{"HW_CPU_X86_AVX2"}, 2},
		{"without traits", nil, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			svc, ctx := newService(t)
			mustProvider(t, svc, uuidRoot, "root", "")
			if len(c.initial) > 0 {
				if _, err := svc.SetProviderTraits(ctx, uuidRoot, 0, c.initial); err != nil {
					t.Fatal(err)
				}
			}
			if err := svc.DeleteProviderTraits(ctx, uuidRoot); err != nil {
				t.Fatal(err)
			}
			pt, err := svc.GetProviderTraits(ctx, uuidRoot)
			if err != nil || len(pt.Traits) != 0 || pt.Provider.Generation != c.wantGen {
				t.Errorf("traits %v at generation %d (%v), want none at %d", pt.Traits, pt.Provider.Generation, err, c.wantGen)
			}
		})
	}
	svc, ctx := newService(t)
	checkFailure(t, svc.DeleteProviderTraits(ctx, uuidNone), notFound("No resource provider with uuid "+uuidNone+" found"))
}
