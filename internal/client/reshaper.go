package client

import (
	"context"
	"encoding/json"
	"net/http"
)

// Reshape sends a POST /reshaper document (microversion 1.30): inventories
// and allocations of several providers replaced in one transaction. body is
// the document as the API takes it (a json.RawMessage is sent as is).
func (p *Placement) Reshape(ctx context.Context, body any) error {
	if body == nil {
		body = json.RawMessage(`{}`)
	}
	_, err := p.send(ctx, http.MethodPost, "/reshaper", body, nil)
	return err
}
