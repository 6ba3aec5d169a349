package engine

import "fmt"

// Order is how a search ranks candidates, which decides what a limit
// keeps.
type Order string

// The orders a search knows.
const (
	// OrderDefault is Placement's own deterministic order: trees in id
	// order, one candidate from each in turn, trees served by their own
	// providers before those leaning on sharing providers.
	OrderDefault Order = ""
	// OrderPack puts the fullest trees first (bin packing).
	OrderPack Order = "pack"
	// OrderSpread puts the emptiest trees first.
	OrderSpread Order = "spread"
	// OrderRandom samples the limit at random and shuffles the result
	// (Placement's randomize_allocation_candidates).
	OrderRandom Order = "random"
)

// ParseOrder reads an order's name; "default" and "" are OrderDefault.
func ParseOrder(name string) (Order, error) {
	switch o := Order(name); o {
	case OrderDefault, OrderPack, OrderSpread, OrderRandom:
		return o, nil
	case "default":
		return OrderDefault, nil
	}
	return "", fmt.Errorf("unknown candidate order %q: use default, pack, spread or random", name)
}
