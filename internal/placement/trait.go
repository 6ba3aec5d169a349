package placement

import (
	"context"
	"sort"
	"strings"

	"allot/internal/model"
	"allot/internal/store"
)

// ListTraits returns the traits matching f, sorted by name.
func (s *Service) ListTraits(ctx context.Context, f model.TraitFilter) ([]model.Trait, error) {
	var out []model.Trait
	err := s.store.Read(ctx, func(tx *store.Tx) error {
		var err error
		out, err = tx.Traits(ctx, f)
		return err
	})
	return out, err
}

// GetTrait returns one trait by name.
func (s *Service) GetTrait(ctx context.Context, name string) (model.Trait, error) {
	var out model.Trait
	err := s.store.Read(ctx, func(tx *store.Tx) error {
		t, ok, err := tx.Trait(ctx, name)
		if err != nil {
			return err
		}
		if !ok {
			return withTraitHint(ctx, tx, model.NotFound("No such trait(s): %s.", name), name)
		}
		out = t
		return nil
	})
	return out, err
}

// EnsureTrait creates a custom trait unless it exists; created says which.
func (s *Service) EnsureTrait(ctx context.Context, name string) (t model.Trait, created bool, err error) {
	err = s.store.Write(ctx, func(tx *store.Tx) error {
		t, created, err = tx.CreateTrait(ctx, name)
		return err
	})
	return t, created, err
}

// DeleteTrait deletes a custom trait that no provider has.
func (s *Service) DeleteTrait(ctx context.Context, name string) error {
	return s.store.Write(ctx, func(tx *store.Tx) error {
		t, ok, err := tx.Trait(ctx, name)
		if err != nil {
			return err
		}
		if !ok {
			return withTraitHint(ctx, tx, model.NotFound("No such trait(s): %s.", name), name)
		}
		if !strings.HasPrefix(name, model.CustomPrefix) {
			return model.BadRequest("Cannot delete standard trait %s.", name)
		}
		if inUse, err := tx.TraitInUse(ctx, t.ID); err != nil {
			return err
		} else if inUse {
			return model.Conflict("The trait %s is in use by a resource provider.", name)
		}
		return tx.DeleteTrait(ctx, t.ID)
	})
}

// ProviderTraits is a provider's generation with its traits.
type ProviderTraits struct {
	Provider model.Provider
	Traits   []model.Trait
}

// GetProviderTraits returns the traits of a provider.
func (s *Service) GetProviderTraits(ctx context.Context, id string) (ProviderTraits, error) {
	p, traits, err := readOfProvider(ctx, s, id, func(tx *store.Tx, p model.Provider) ([]model.Trait, error) {
		return tx.ProviderTraits(ctx, p.ID)
	})
	return ProviderTraits{Provider: p, Traits: traits}, err
}

// SetProviderTraits replaces the traits of a provider whose generation is
// still generation. Every trait must exist.
func (s *Service) SetProviderTraits(ctx context.Context, id string, generation int64, names []string) (ProviderTraits, error) {
	var out ProviderTraits
	err := s.store.Write(ctx, func(tx *store.Tx) error {
		p, err := providerForWrite(ctx, tx, id)
		if err != nil {
			return err
		}
		if p.Generation != generation {
			return model.Conflict("Resource provider's generation already changed. Please update the generation and try again.").
				WithCode(model.CodeConcurrentUpdate)
		}
		if err := setProviderTraits(ctx, tx, &p, names); err != nil {
			return err
		}
		out.Provider = p
		out.Traits, err = tx.ProviderTraits(ctx, p.ID)
		return err
	})
	return out, err
}

// setProviderTraits replaces the traits of locked provider p, bumping its
// generation only if the set changed.
func setProviderTraits(ctx context.Context, tx *store.Tx, p *model.Provider, names []string) error {
	var ids []int64
	if len(names) > 0 {
		found, err := tx.Traits(ctx, model.TraitFilter{Names: names})
		if err != nil {
			return err
		}
		have := map[string]int64{}
		for _, t := range found {
			have[t.Name] = t.ID
		}
		var missing []string
		for _, n := range names {
			id, ok := have[n]
			if !ok {
				missing = append(missing, n)
				continue
			}
			ids = append(ids, id)
		}
		if len(missing) > 0 {
			sort.Strings(missing)
			return withTraitHint(ctx, tx, model.BadRequest("No such trait %s", strings.Join(missing, ", ")), missing...)
		}
	}
	changed, err := tx.SetProviderTraits(ctx, p.ID, ids)
	if err != nil || !changed {
		return err
	}
	p.Generation, err = tx.BumpGeneration(ctx, p.ID, p.Generation)
	return err
}

// DeleteProviderTraits removes every trait of a provider.
func (s *Service) DeleteProviderTraits(ctx context.Context, id string) error {
	return s.store.Write(ctx, func(tx *store.Tx) error {
		p, err := providerForWrite(ctx, tx, id)
		if err != nil {
			return err
		}
		return setProviderTraits(ctx, tx, &p, nil)
	})
}
