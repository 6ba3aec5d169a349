package model

import "time"

// ResourceClass is a kind of resource (VCPU, MEMORY_MB, CUSTOM_...).
type ResourceClass struct {
	ID        int64
	Name      string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Modified returns when the class last changed.
func (rc ResourceClass) Modified() time.Time {
	if !rc.UpdatedAt.IsZero() {
		return rc.UpdatedAt
	}
	return rc.CreatedAt
}

// Trait is a qualitative characteristic of a provider.
type Trait struct {
	ID        int64
	Name      string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Modified returns when the trait last changed.
func (t Trait) Modified() time.Time {
	if !t.UpdatedAt.IsZero() {
		return t.UpdatedAt
	}
	return t.CreatedAt
}

// TraitFilter narrows a list of traits. Zero fields do not filter.
type TraitFilter struct {
	// Names keeps only these names (when non-nil).
	Names []string
	// Prefix keeps names starting with it.
	Prefix string
	// Associated keeps traits that are (true) or are not (false) on some provider.
	Associated *bool
}
