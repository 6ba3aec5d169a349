package placement

import (
	"context"
	"strings"

	"github.com/google/uuid"

	"allot/internal/model"
	"allot/internal/query"
	"allot/internal/store"
)

// ListProviders returns the providers matching f (see query.ProviderList).
func (s *Service) ListProviders(ctx context.Context, f query.ProviderList) ([]model.Provider, error) {
	if err := s.Sync(ctx); err != nil {
		return nil, err
	}
	return s.engine.ListProviders(f)
}

// GetProvider returns one provider by uuid.
func (s *Service) GetProvider(ctx context.Context, id string) (model.Provider, error) {
	var p model.Provider
	err := s.store.Read(ctx, func(tx *store.Tx) (err error) {
		p, err = providerForRead(ctx, tx, id)
		return err
	})
	return p, err
}

// NewProvider is what creating a provider takes.
type NewProvider struct {
	UUID       string // generated when empty
	Name       string
	ParentUUID string // empty for a root
}

// CreateProvider creates a provider, as a root or under an existing parent.
func (s *Service) CreateProvider(ctx context.Context, in NewProvider) (model.Provider, error) {
	if in.UUID == "" {
		in.UUID = uuid.NewString()
	}
	fail := func(reason string) error {
		return model.BadRequest("Unable to create resource provider \"%s\", %s: Object action create failed because: %s", in.Name, in.UUID, reason)
	}
	var out model.Provider
	err := s.store.Write(ctx, func(tx *store.Tx) error {
		p := model.Provider{UUID: in.UUID, Name: in.Name}
		if in.ParentUUID != "" {
			if in.ParentUUID == in.UUID {
				return fail("parent provider UUID cannot be same as UUID. Please set parent provider UUID to None if there is no parent.")
			}
			parent, ok, err := tx.ProviderByUUID(ctx, in.ParentUUID, true)
			if err != nil {
				return err
			}
			if !ok {
				return fail("parent provider UUID does not exist.")
			}
			p.ParentID, p.ParentUUID = parent.ID, parent.UUID
			p.RootID, p.RootUUID = parent.RootID, parent.RootUUID
		}
		created, err := tx.CreateProvider(ctx, p)
		if err != nil {
			return duplicateProvider(err, in.UUID, in.Name)
		}
		out = created
		return nil
	})
	return out, err
}

// duplicateProvider words a unique violation as Placement does.
func duplicateProvider(err error, id, name string) error {
	e, ok := model.AsError(err)
	if !ok || e.Kind != model.KindConflict || e.Code != model.CodeDuplicateName {
		return err
	}
	what := "uuid: " + id
	if strings.Contains(e.Message, "name") {
		what = "name: " + name
	}
	return model.Conflict("Conflicting resource provider %s already exists.", what).WithCode(model.CodeDuplicateName)
}

// ProviderUpdate is what updating a provider takes.
type ProviderUpdate struct {
	Name string
	// SetParent says whether ParentUUID was given; an empty ParentUUID then
	// means "no parent".
	SetParent  bool
	ParentUUID string
	// AllowReparenting permits changing or removing an existing parent (1.37).
	AllowReparenting bool
}

// UpdateProvider renames a provider and may change its parent. invalid,
// when not nil, is why the request's update could not be parsed: it is the
// answer if the provider exists (else the 404 is).
func (s *Service) UpdateProvider(ctx context.Context, id string, in ProviderUpdate, invalid error) (model.Provider, error) {
	fail := func(reason string) error {
		return model.BadRequest("Unable to save resource provider %s: Object action update failed because: %s", id, reason)
	}
	var out model.Provider
	err := s.store.Write(ctx, func(tx *store.Tx) error {
		p, err := providerForInput(ctx, tx, id, invalid)
		if err != nil {
			return err
		}
		p.Name = in.Name
		var subtree []int64
		if in.SetParent {
			switch {
			case in.ParentUUID != "":
				parent, ok, err := tx.ProviderByUUID(ctx, in.ParentUUID, true)
				if err != nil {
					return err
				}
				if !ok {
					return model.BadRequest("Unable to save resource provider %s: Object action create failed because: parent provider UUID does not exist.", id)
				}
				if p.ParentID != 0 && p.ParentID != parent.ID && !in.AllowReparenting {
					return fail("re-parenting a provider is not currently allowed.")
				}
				if p.ParentID != parent.ID || p.RootID != parent.RootID {
					tree, err := tx.TreeProviders(ctx, p.RootID)
					if err != nil {
						return err
					}
					subtree = descendants(tree, p.ID)
					for _, d := range append(subtree, p.ID) {
						if d == parent.ID {
							return fail("creating loop in the provider tree is not allowed.")
						}
					}
				}
				p.ParentID, p.ParentUUID = parent.ID, parent.UUID
				p.RootID, p.RootUUID = parent.RootID, parent.RootUUID
			case p.ParentID != 0:
				if !in.AllowReparenting {
					return fail("un-parenting a provider is not currently allowed.")
				}
				tree, err := tx.TreeProviders(ctx, p.RootID)
				if err != nil {
					return err
				}
				subtree = descendants(tree, p.ID)
				p.ParentID, p.ParentUUID = 0, ""
				p.RootID, p.RootUUID = p.ID, p.UUID
			}
		}
		if err := tx.UpdateProvider(ctx, p, subtree); err != nil {
			if e, ok := model.AsError(err); ok && e.Code == model.CodeDuplicateName {
				return model.Conflict("Conflicting resource provider %s already exists.", in.Name).WithCode(model.CodeDuplicateName)
			}
			return err
		}
		p.UpdatedAt = tx.Now()
		out = p
		return nil
	})
	return out, err
}

// descendants returns the ids of every provider below id in tree.
func descendants(tree []model.Provider, id int64) []int64 {
	kids := map[int64][]int64{}
	for _, p := range tree {
		if p.ParentID != 0 {
			kids[p.ParentID] = append(kids[p.ParentID], p.ID)
		}
	}
	var out []int64
	stack := append([]int64(nil), kids[id]...)
	for len(stack) > 0 {
		n := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		out = append(out, n)
		stack = append(stack, kids[n]...)
	}
	return out
}

// DeleteProvider deletes a provider that has no children and no allocations.
func (s *Service) DeleteProvider(ctx context.Context, id string) error {
	return s.store.Write(ctx, func(tx *store.Tx) error {
		p, ok, err := tx.ProviderByUUID(ctx, id, true)
		if err != nil {
			return err
		}
		if !ok {
			return model.NotFound("No resource provider with uuid %s found for delete", id)
		}
		if has, err := tx.HasChildren(ctx, p.ID); err != nil {
			return err
		} else if has {
			return model.Conflict("Unable to delete parent resource provider %s: It has child resource providers.", id).
				WithCode(model.CodeProviderCannotDelParent)
		}
		if has, err := tx.HasAllocations(ctx, p.ID); err != nil {
			return err
		} else if has {
			return model.Conflict("Unable to delete resource provider %s: Resource provider has allocations.", id).
				WithCode(model.CodeProviderInUse)
		}
		return tx.DeleteProvider(ctx, p.ID)
	})
}
