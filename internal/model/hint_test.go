package model

import (
	"reflect"
	"testing"
)

func TestSuggest(t *testing.T) {
	traits := []string{"HW_CPU_X86_AVX", "HW_CPU_X86_AVX2", "HW_CPU_X86_AVX512F", "HW_CPU_X86_SSE42", "CUSTOM_GPU", "CUSTOM_FREE", "CUSTOM_A", "CUSTOM_B"}
	classes := []string{"VCPU", "MEMORY_MB", "DISK_GB", "CUSTOM_BAREMETAL_GOLD"}
	cases := []struct {
		word  string
		known []string
		want  []string
	}{
		{"HW_CPU_X86_AVX22", traits, []string{"HW_CPU_X86_AVX2", "HW_CPU_X86_AVX", "HW_CPU_X86_AVX512F"}},
		{"hw_cpu_x86_avx2", traits, []string{"HW_CPU_X86_AVX2", "HW_CPU_X86_AVX", "HW_CPU_X86_AVX512F"}}, // the same name in upper case first
		{"CUSTOM_GUP", traits, nil}, // a swap is two edits: too many for 3 letters
		{"CUSTOM_GPUS", traits, []string{"CUSTOM_GPU"}},
		{"CUSTOM_NONE", traits, nil}, // CUSTOM_ is not counted: NONE is not FREE
		{"CUSTOM_Y", traits, nil},    // one letter differs entirely
		{"VPCU", classes, nil},
		{"VCPUS", classes, []string{"VCPU"}},
		{"MEMORY_GB", classes, []string{"MEMORY_MB"}},
		{"CUSTOM_BAREMETAL_GOLF", classes, []string{"CUSTOM_BAREMETAL_GOLD"}},
		{"DISK_GB", classes, nil}, // the name itself is not a suggestion
		{"", classes, nil},
		{"X", classes, nil},
	}
	for _, c := range cases {
		if got := Suggest(c.word, c.known); !reflect.DeepEqual(got, c.want) && !(len(got) == 0 && len(c.want) == 0) {
			t.Errorf("Suggest(%q) = %q, want %q", c.word, got, c.want)
		}
	}
}

func TestEditDistance(t *testing.T) {
	cases := []struct {
		a, b  string
		limit int
		want  int
	}{
		{"", "", 3, 0},
		{"ABC", "ABC", 3, 0},
		{"ABC", "ABD", 3, 1},
		{"ABC", "AC", 3, 1},
		{"ABC", "XYZ", 3, 3},
		{"ABC", "XYZ", 1, 2}, // over the limit: limit+1
		{"KITTEN", "SITTING", 5, 3},
		{"A", "ABCDEFG", 2, 3},
	}
	for _, c := range cases {
		if got := editDistance(c.a, c.b, c.limit); got != c.want {
			t.Errorf("editDistance(%q, %q, %d) = %d, want %d", c.a, c.b, c.limit, got, c.want)
		}
	}
}

func TestHintWording(t *testing.T) {
	cases := []struct{ got, want string }{
		{DidYouMean(nil), ""},
		{DidYouMean([]string{"A"}), "Did you mean A?"},
		{DidYouMean([]string{"A", "B"}), "Did you mean A or B?"},
		{DidYouMean([]string{"A", "B", "C"}), "Did you mean A, B or C?"},
		{SuggestNames([]string{"VCPUS", "VCPUS", "MEMORY_GB"}, []string{"VCPU", "MEMORY_MB"}), "Did you mean VCPU or MEMORY_MB?"},
		{BadRequest("No such trait X").WithHint("Did you mean Y?").Detail(), "No such trait X. Did you mean Y?"},
		{BadRequest("No such trait X.").WithHint("Did you mean Y?").Detail(), "No such trait X. Did you mean Y?"},
		{BadRequest("").WithHint("Send it.").Detail(), "Send it."},
		{BadRequest("As is.").WithHint("").Detail(), "As is."},
		{BadRequest("A.").WithHint("B.").WithHint("C.").Detail(), "A. B. C."},
		{BadRequest("A.").WithHint("B.").Message, "A."},
		{BadRequest("A.").WithHint("B.").Error(), "A. B."},
		{ProviderLabel("u", "u"), "u"},
		{ProviderLabel("u", ""), "u"},
		{ProviderLabel("u", "cn1"), `"cn1" (u)`},
		{HintMicroversion("GET /allocation_candidates", V(1, 10), V(1, 39), "OpenStack-API-Version: placement 1.10"),
			`GET /allocation_candidates needs API microversion 1.10 or later (this server serves up to 1.39): send the header "OpenStack-API-Version: placement 1.10".`},
		{HintCapacity("VCPU", "cn1", 4, 14, Inventory{Total: 8, Reserved: 0, AllocationRatio: 2, MinUnit: 1, MaxUnit: 8, StepSize: 1}),
			"(VCPU on cn1: 4 requested, 14 of 16 in use, 2 free; capacity is (total 8 - reserved 0) x allocation_ratio 2.) Ask for at most 2, or choose another provider from GET /allocation_candidates."},
	}
	for i, c := range cases {
		if c.got != c.want {
			t.Errorf("%d: got %q, want %q", i, c.got, c.want)
		}
	}
}
