package cputime

import "testing"

// TestProcessGrowsWithWork checks that CPU time is read and that work
// makes it grow.
func TestProcessGrowsWithWork(t *testing.T) {
	before, err := Process()
	if err != nil {
		t.Fatal(err)
	}
	x := 0
	for i := 0; i < 50_000_000; i++ {
		x += i % 7
	}
	after, err := Process()
	if err != nil {
		t.Fatal(err)
	}
	if after <= before || x == 0 {
		t.Fatalf("CPU time went from %v to %v over a busy loop", before, after)
	}
}
