package placement

import (
	"context"
	"fmt"

	"allot/internal/model"
	"allot/internal/store"
)

// ListResourceClasses returns every class, standard first.
func (s *Service) ListResourceClasses(ctx context.Context) ([]model.ResourceClass, error) {
	var out []model.ResourceClass
	err := s.store.Read(ctx, func(tx *store.Tx) error {
		var err error
		out, err = tx.ResourceClasses(ctx)
		return err
	})
	return out, err
}

// GetResourceClass returns one class by name.
func (s *Service) GetResourceClass(ctx context.Context, name string) (model.ResourceClass, error) {
	var out model.ResourceClass
	err := s.store.Read(ctx, func(tx *store.Tx) error {
		rc, ok, err := tx.ResourceClass(ctx, name)
		if err != nil {
			return err
		}
		if !ok {
			return withClassHint(ctx, tx, model.NotFound("No such resource class %s.", name), name)
		}
		out = rc
		return nil
	})
	return out, err
}

// CreateResourceClass creates a custom class; it fails if the name exists.
func (s *Service) CreateResourceClass(ctx context.Context, name string) (model.ResourceClass, error) {
	var out model.ResourceClass
	err := s.store.Write(ctx, func(tx *store.Tx) error {
		rc, err := tx.CreateResourceClass(ctx, name)
		if model.IsKind(err, model.KindConflict) {
			return model.Conflict("Conflicting resource class already exists: %s", name).WithCode(model.CodeDuplicateName)
		}
		out = rc
		return err
	})
	return out, err
}

// EnsureResourceClass creates a custom class unless it exists (1.7 PUT);
// created says which happened.
func (s *Service) EnsureResourceClass(ctx context.Context, name string) (rc model.ResourceClass, created bool, err error) {
	err = s.store.Write(ctx, func(tx *store.Tx) error {
		existing, ok, err := tx.ResourceClass(ctx, name)
		if err != nil || ok {
			rc = existing
			return err
		}
		rc, err = tx.CreateResourceClass(ctx, name)
		created = err == nil
		return err
	})
	return rc, created, err
}

// RenameResourceClass renames a custom class (PUT before 1.7).
func (s *Service) RenameResourceClass(ctx context.Context, name, newName string) (model.ResourceClass, error) {
	var out model.ResourceClass
	err := s.store.Write(ctx, func(tx *store.Tx) error {
		rc, err := customClass(ctx, tx, name, "Cannot update standard resource class %s")
		if err != nil {
			return err
		}
		if _, exists, err := tx.ResourceClass(ctx, newName); err != nil {
			return err
		} else if exists && newName != name {
			return model.Conflict("Resource class already exists: %s", newName).WithCode(model.CodeDuplicateName)
		}
		out, err = tx.RenameResourceClass(ctx, rc.ID, newName)
		if model.IsKind(err, model.KindConflict) {
			return model.Conflict("Resource class already exists: %s", newName).WithCode(model.CodeDuplicateName)
		}
		return err
	})
	return out, err
}

// DeleteResourceClass deletes a custom class that no inventory uses.
func (s *Service) DeleteResourceClass(ctx context.Context, name string) error {
	return s.store.Write(ctx, func(tx *store.Tx) error {
		rc, err := customClass(ctx, tx, name, "Error in delete resource class: Cannot delete standard resource class %s.")
		if err != nil {
			return err
		}
		if inUse, err := tx.ResourceClassInUse(ctx, rc.ID); err != nil {
			return err
		} else if inUse {
			return model.Conflict("Error in delete resource class: Cannot delete resource class %s. Class is in use in inventory.", name)
		}
		return tx.DeleteResourceClass(ctx, rc.ID)
	})
}

// customClass returns the custom class a write changes: a 404 when there is
// no such class, a 400 worded by standardRefusal (given the name) when it
// is a standard one.
func customClass(ctx context.Context, tx *store.Tx, name, standardRefusal string) (model.ResourceClass, error) {
	rc, ok, err := tx.ResourceClass(ctx, name)
	switch {
	case err != nil:
		return rc, fmt.Errorf("read resource class %s: %w", name, err)
	case !ok:
		return rc, withClassHint(ctx, tx, model.NotFound("No such resource class %s.", name), name)
	case rc.ID < model.CustomResourceClassMinID:
		return rc, model.BadRequest(standardRefusal, name)
	}
	return rc, nil
}
