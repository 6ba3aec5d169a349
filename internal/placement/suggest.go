package placement

import (
	"context"

	"allot/internal/model"
	"allot/internal/store"
)

// Suggestions for unknown names, read from the store inside the
// transaction that found them unknown (an error path: one more query).

// withTraitHint adds to err the traits closest to the unknown names.
func withTraitHint(ctx context.Context, tx *store.Tx, err error, unknown ...string) error {
	traits, lerr := tx.Traits(ctx, model.TraitFilter{})
	if lerr != nil {
		return err
	}
	known := make([]string, len(traits))
	for i, t := range traits {
		known[i] = t.Name
	}
	return model.AddHint(err, model.SuggestNames(unknown, known))
}

// withClassHint adds to err the resource classes closest to the unknown
// names.
func withClassHint(ctx context.Context, tx *store.Tx, err error, unknown ...string) error {
	classes, lerr := tx.ResourceClasses(ctx)
	if lerr != nil {
		return err
	}
	known := make([]string, len(classes))
	for i, c := range classes {
		known[i] = c.Name
	}
	return model.AddHint(err, model.SuggestNames(unknown, known))
}
