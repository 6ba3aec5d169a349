package client

import (
	"context"
	"net/http"
)

// ResourceClass is a resource class as the API shows it.
type ResourceClass struct {
	Name  string `json:"name"`
	Links []Link `json:"links,omitempty"`
}

// ListResourceClasses returns every resource class, standard and custom.
func (p *Placement) ListResourceClasses(ctx context.Context) ([]ResourceClass, error) {
	var doc struct {
		Classes []ResourceClass `json:"resource_classes"`
	}
	_, err := p.get(ctx, "/resource_classes", nil, &doc)
	return doc.Classes, err
}

// GetResourceClass returns one resource class.
func (p *Placement) GetResourceClass(ctx context.Context, name string) (ResourceClass, error) {
	var rc ResourceClass
	_, err := p.get(ctx, "/resource_classes/"+pathEscape(name), nil, &rc)
	return rc, err
}

// CreateResourceClass creates a custom class (CUSTOM_...); it is a 409 if
// the class exists.
func (p *Placement) CreateResourceClass(ctx context.Context, name string) error {
	_, err := p.send(ctx, http.MethodPost, "/resource_classes", map[string]string{"name": name}, nil)
	return err
}

// EnsureResourceClass creates a custom class unless it exists (microversion
// 1.7) and reports whether it was created.
func (p *Placement) EnsureResourceClass(ctx context.Context, name string) (bool, error) {
	resp, err := p.send(ctx, http.MethodPut, "/resource_classes/"+pathEscape(name), nil, nil)
	if err != nil {
		return false, err
	}
	return resp.Status == http.StatusCreated, nil
}

// DeleteResourceClass deletes a custom class that no inventory uses.
func (p *Placement) DeleteResourceClass(ctx context.Context, name string) error {
	_, err := p.send(ctx, http.MethodDelete, "/resource_classes/"+pathEscape(name), nil, nil)
	return err
}
