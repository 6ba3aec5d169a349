package placement_test

import (
	"context"
	"errors"
	"testing"

	"allot/internal/model"
	"allot/internal/placement"
	"allot/internal/testserver"
)

// Service tests of providers, inventories, aggregates, traits and resource
// classes against a real SQLite store: what each call answers (the error's
// kind, code and Placement's exact wording, which the API passes through)
// and what it leaves behind, read back through the service.

// Fixed uuids, so that expected messages can name them.
const (
	uuidRoot  = "11111111-1111-4111-8111-111111111111"
	uuidChild = "22222222-2222-4222-8222-222222222222"
	uuidOther = "33333333-3333-4333-8333-333333333333"
	uuidGrand = "44444444-4444-4444-8444-444444444444"
	uuidNone  = "99999999-9999-4999-8999-999999999999"
)

// newService returns a Placement service over a fresh SQLite store.
func newService(t *testing.T) (*placement.Service, context.Context) {
	t.Helper()
	return placement.New(testserver.OpenStore(t, "sqlite"), placement.Options{Logger: testserver.Quiet}), context.Background()
}

// mustProvider creates a provider with a fixed uuid (under parent when not
// empty).
func mustProvider(t *testing.T, svc *placement.Service, uuid, name, parent string) model.Provider {
	t.Helper()
	p, err := svc.CreateProvider(context.Background(), placement.NewProvider{UUID: uuid, Name: name, ParentUUID: parent})
	if err != nil {
		t.Fatalf("creating provider %s: %v", name, err)
	}
	return p
}

// mustGet returns a provider, failing the test if it cannot.
func mustGet(t *testing.T, svc *placement.Service, uuid string) model.Provider {
	t.Helper()
	p, err := svc.GetProvider(context.Background(), uuid)
	if err != nil {
		t.Fatalf("getting provider %s: %v", uuid, err)
	}
	return p
}

// mustHold makes consumer hold amount of class on provider.
func mustHold(t *testing.T, svc *placement.Service, consumer, provider, class string, amount int64) {
	t.Helper()
	err := svc.WriteAllocations(context.Background(), []placement.ConsumerAllocations{{
		ConsumerUUID: consumer, ProjectID: "project", UserID: "user",
		Allocations: []placement.ProviderResources{{ProviderUUID: provider,
			Resources: []placement.ClassAmount{{Class: class, Amount: amount}}}},
	}}, placement.WriteOptions{})
	if err != nil {
		t.Fatalf("allocating %d %s on %s: %v", amount, class, provider, err)
	}
}

// failure is the error a call should answer; the zero failure is success.
type failure struct {
	kind model.Kind
	code string // checked when not empty
	msg  string
}

var success = failure{}

// checkFailure asserts that err is want.
func checkFailure(t *testing.T, err error, want failure) {
	t.Helper()
	if want == success {
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return
	}
	e, isModel := model.AsError(err)
	if !isModel {
		t.Fatalf("error %v, want a %s error %q", err, want.kind, want.msg)
	}
	if e.Kind != want.kind || e.Message != want.msg || (want.code != "" && e.Code != want.code) {
		t.Fatalf("error %s %q (code %q), want %s %q (code %q)", e.Kind, e.Message, e.Code, want.kind, want.msg, want.code)
	}
}

func badRequest(msg string) failure { return failure{kind: model.KindBadRequest, msg: msg} }
func notFound(msg string) failure   { return failure{kind: model.KindNotFound, msg: msg} }
func conflict(code, msg string) failure {
	return failure{kind: model.KindConflict, code: code, msg: msg}
}

// errInvalid stands for a request body the handler could not parse.
var errInvalid = model.BadRequest("JSON does not validate: 'total' is a required property")

// TestInvalidInputAfterProvider: every write that takes the handler's parse
// error answers it only when the provider exists; an unknown provider is a
// 404 whatever the input, as Placement answers. The write changes nothing.
func TestInvalidInputAfterProvider(t *testing.T) {
	svc, ctx := newService(t)
	mustProvider(t, svc, uuidRoot, "root", "")
	gen := int64(0)
	writes := map[string]func(uuid string, invalid error) error{
		"CreateInventory": func(uuid string, invalid error) error {
			_, err := svc.CreateInventory(ctx, uuid, model.DefaultInventory("VCPU", 4), placement.ReservedUpToTotal, invalid)
			return err
		},
		"SetInventories": func(uuid string, invalid error) error {
			_, err := svc.SetInventories(ctx, uuid, 0, []model.Inventory{model.DefaultInventory("VCPU", 4)}, placement.ReservedUpToTotal, invalid)
			return err
		},
		"UpdateInventory": func(uuid string, invalid error) error {
			_, _, err := svc.UpdateInventory(ctx, uuid, 0, model.DefaultInventory("VCPU", 4), placement.ReservedUpToTotal, invalid)
			return err
		},
		"SetProviderAggregates": func(uuid string, invalid error) error {
			_, err := svc.SetProviderAggregates(ctx, uuid, &gen, []string{uuidOther}, invalid)
			return err
		},
		"UpdateProvider": func(uuid string, invalid error) error {
			_, err := svc.UpdateProvider(ctx, uuid, placement.ProviderUpdate{Name: "renamed"}, invalid)
			return err
		},
	}
	cases := []struct {
		name    string
		uuid    string
		invalid error
		want    failure
	}{
		{"unknown provider, bad input", uuidNone, errInvalid, notFound("No resource provider with uuid " + uuidNone + " found")},
		{"unknown provider, good input", uuidNone, nil, notFound("No resource provider with uuid " + uuidNone + " found")},
		{"known provider, bad input", uuidRoot, errInvalid, badRequest(errInvalid.Message)},
	}
	for name, write := range writes {
		for _, c := range cases {
			t.Run(name+"/"+c.name, func(t *testing.T) {
				checkFailure(t, write(c.uuid, c.invalid), c.want)
			})
		}
	}
	p := mustGet(t, svc, uuidRoot)
	if p.Generation != 0 || p.Name != "root" {
		t.Errorf("a refused write changed the provider: %+v", p)
	}
	invs, err := svc.GetInventories(ctx, uuidRoot)
	if err != nil || len(invs.Inventories) != 0 {
		t.Errorf("a refused write left inventories %+v (%v)", invs.Inventories, err)
	}
}

// TestInvalidInputIsNotWrapped: the parse error comes back as the handler
// gave it, so that the API renders it unchanged.
func TestInvalidInputIsNotWrapped(t *testing.T) {
	svc, ctx := newService(t)
	mustProvider(t, svc, uuidRoot, "root", "")
	sentinel := errors.New("the body is too large")
	_, err := svc.UpdateProvider(ctx, uuidRoot, placement.ProviderUpdate{Name: "x"}, sentinel)
	if !errors.Is(err, sentinel) {
		t.Fatalf("error %v, want the handler's own", err)
	}
}
