package baremetal

import (
	"reflect"
	"strings"
	"testing"

	"allot/internal/model"
)

func TestCreateNode(t *testing.T) {
	e := newEnv(t)
	taken := e.node(nodeSpec{name: "taken", rc: "gold"})
	id := "7E0F8C52-9A4B-4C1D-8E2F-0A1B2C3D4E5F"
	for _, tc := range []struct {
		name string
		in   NodeCreate
		kind model.Kind
		want string
	}{
		{"enrolled", NodeCreate{Driver: FakeDriver, Name: ptr("n-1"), ResourceClass: ptr("baremetal-gold")}, model.KindInternal, ""},
		{"uuid normalized", NodeCreate{Driver: FakeDriver, UUID: id, ResourceClass: ptr("gold")}, model.KindInternal, ""},
		{"no resource class", NodeCreate{Driver: FakeDriver, Name: ptr("classless")}, model.KindInternal, ""},
		{"other driver", NodeCreate{Driver: "ipmi"}, model.KindBadRequest,
			`The driver "ipmi" is not supported: allot drives no hardware, so every node uses the "fake-hardware" driver.`},
		{"invalid name", NodeCreate{Driver: FakeDriver, Name: ptr("a b")}, model.KindBadRequest, "Cannot create node with invalid name 'a b'"},
		{"empty name", NodeCreate{Driver: FakeDriver, Name: ptr("")}, model.KindBadRequest, "Cannot create node with invalid name ''"},
		{"name like a uuid", NodeCreate{Driver: FakeDriver, Name: ptr("0c2d6b43-3f0a-4a7e-9d1c-5b6a7e8f9a0b")}, model.KindBadRequest,
			"Cannot create node with invalid name '0c2d6b43-3f0a-4a7e-9d1c-5b6a7e8f9a0b'"},
		{"name like a uuid without dashes", NodeCreate{Driver: FakeDriver, Name: ptr("0c2d6b433f0a4a7e9d1c5b6a7e8f9a0b")}, model.KindBadRequest,
			"Cannot create node with invalid name '0c2d6b433f0a4a7e9d1c5b6a7e8f9a0b'"},
		{"name with hex and dashes", NodeCreate{Driver: FakeDriver, Name: ptr("0c2d6b43-3f0a")}, model.KindInternal, ""},
		{"invalid uuid", NodeCreate{Driver: FakeDriver, UUID: "xyz"}, model.KindBadRequest, "Expected a UUID for uuid: xyz"},
		{"duplicate name", NodeCreate{Driver: FakeDriver, Name: ptr("taken")}, model.KindConflict, "A node with name taken already exists."},
		{"duplicate uuid", NodeCreate{Driver: FakeDriver, UUID: taken.UUID}, model.KindConflict, "A node with UUID " + taken.UUID + " already exists."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n, err := e.svc.CreateNode(e.ctx, tc.in)
			wantErr(t, err, tc.kind, tc.want)
			if err != nil {
				return
			}
			if n.ProvisionState != model.StateEnroll || n.PowerState != nil || n.InstanceUUID != nil || n.Traits == nil || n.Extra == nil {
				t.Errorf("new node: %+v", n)
			}
			if tc.in.UUID != "" && n.UUID != strings.ToLower(tc.in.UUID) {
				t.Errorf("uuid %s, want %s", n.UUID, strings.ToLower(tc.in.UUID))
			}
			// Its provider withholds the node's one unit until the node is allocatable.
			if tc.in.ResourceClass != nil {
				e.wantUnit(n.UUID, model.NodeResourceClass(*tc.in.ResourceClass), 1, 0)
			} else if invs, err := e.pl.GetInventories(e.ctx, n.UUID); err != nil || len(invs.Inventories) != 0 {
				t.Errorf("provider of a node without class: %+v, %v", invs, err)
			}
		})
	}
}

func TestGetNode(t *testing.T) {
	e := newEnv(t)
	n := e.node(nodeSpec{name: "n-1", rc: "gold"})
	for _, tc := range []struct {
		ident string
		kind  model.Kind
		want  string
	}{
		{"n-1", model.KindInternal, ""},
		{n.UUID, model.KindInternal, ""},
		{strings.ToUpper(n.UUID), model.KindInternal, ""},
		{"nope", model.KindNotFound, "Node nope could not be found."},
		{"0c2d6b43-3f0a-4a7e-9d1c-5b6a7e8f9a0b", model.KindNotFound, "Node 0c2d6b43-3f0a-4a7e-9d1c-5b6a7e8f9a0b could not be found."},
		{"a b", model.KindBadRequest, "Expected a logical name or UUID but received a b."},
	} {
		t.Run(tc.ident, func(t *testing.T) {
			got, err := e.svc.GetNode(e.ctx, tc.ident)
			wantErr(t, err, tc.kind, tc.want)
			if err == nil && got.UUID != n.UUID {
				t.Errorf("got node %s, want %s", got.UUID, n.UUID)
			}
		})
	}
}

func TestListNodes(t *testing.T) {
	e := newEnv(t)
	e.node(nodeSpec{name: "gold-1", rc: "gold"})
	e.node(nodeSpec{name: "gold-2", rc: "gold", maintenance: true})
	e.node(nodeSpec{name: "silver-1", rc: "silver", instance: "5a1f3c7e-0b2d-4e6f-8a9b-1c2d3e4f5a6b"})
	yes, no := true, false
	for _, tc := range []struct {
		name string
		f    model.NodeFilter
		want []string
	}{
		{"all", model.NodeFilter{}, []string{"gold-1", "gold-2", "silver-1"}},
		{"by class", model.NodeFilter{ResourceClass: ptr("gold")}, []string{"gold-1", "gold-2"}},
		{"in maintenance", model.NodeFilter{Maintenance: &yes}, []string{"gold-2"}},
		{"associated", model.NodeFilter{Associated: &yes}, []string{"silver-1"}},
		{"not associated", model.NodeFilter{Associated: &no}, []string{"gold-1", "gold-2"}},
		{"limit", model.NodeFilter{Limit: 1}, []string{"gold-1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			nodes, err := e.svc.ListNodes(e.ctx, NodeFilter{NodeFilter: tc.f})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, n := range nodes {
				got = append(got, *n.Name)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

// TestNodeProviderReservation checks that a node's provider withholds its
// unit exactly while the node cannot be given to an allocation.
func TestNodeProviderReservation(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		spec     nodeSpec
		reserved int64
	}{
		{nodeSpec{name: "available"}, 0},
		{nodeSpec{name: "enroll", state: "enroll"}, 1},
		{nodeSpec{name: "manageable", state: "manageable"}, 1},
		{nodeSpec{name: "active", state: "active"}, 1},
		{nodeSpec{name: "no-power", noPower: true}, 1},
		{nodeSpec{name: "maintenance", maintenance: true}, 1},
		{nodeSpec{name: "instance", instance: "9b8c7d6e-5f4a-4b3c-9d2e-1f0a9b8c7d6e"}, 1},
	} {
		t.Run(tc.spec.name, func(t *testing.T) {
			tc.spec.rc = "gold"
			n := e.node(tc.spec)
			e.wantUnit(n.UUID, "CUSTOM_GOLD", tc.reserved, 0)
		})
	}
	// Maintenance off again frees the unit.
	e.must(e.svc.SetMaintenance(e.ctx, "maintenance", false, nil), "maintenance off")
	n := e.getNode("maintenance")
	if n.Maintenance || n.MaintenanceReason != nil {
		t.Errorf("maintenance off: %v %v", n.Maintenance, n.MaintenanceReason)
	}
	e.wantUnit(n.UUID, "CUSTOM_GOLD", 0, 0)
}

func TestNodeTraits(t *testing.T) {
	e := newEnv(t)
	n := e.node(nodeSpec{name: "n-1", rc: "gold"})
	for _, tc := range []struct {
		name   string
		op     string
		traits []string
		kind   model.Kind
		want   string
		after  []string
	}{
		{"set", "set", []string{"CUSTOM_B", "CUSTOM_A"}, model.KindInternal, "", []string{"CUSTOM_A", "CUSTOM_B"}},
		{"add standard", "add", []string{"HW_CPU_X86_AVX2"}, model.KindInternal, "", []string{"CUSTOM_A", "CUSTOM_B", "HW_CPU_X86_AVX2"}},
		{"add again", "add", []string{"CUSTOM_A"}, model.KindInternal, "", []string{"CUSTOM_A", "CUSTOM_B", "HW_CPU_X86_AVX2"}},
		{"remove", "remove", []string{"CUSTOM_B"}, model.KindInternal, "", []string{"CUSTOM_A", "HW_CPU_X86_AVX2"}},
		{"remove missing", "remove", []string{"CUSTOM_B"}, model.KindNotFound, "Node " + n.UUID + " doesn't have a trait CUSTOM_B", []string{"CUSTOM_A", "HW_CPU_X86_AVX2"}},
		{"invalid", "add", []string{"gpu"}, model.KindBadRequest, `Invalid trait "gpu": a trait must be a standard trait or match ^CUSTOM_[A-Z0-9_]+$`, []string{"CUSTOM_A", "HW_CPU_X86_AVX2"}},
		{"unknown standard", "add", []string{"HW_NO_SUCH_THING"}, model.KindBadRequest, `Invalid trait "HW_NO_SUCH_THING"`, []string{"CUSTOM_A", "HW_CPU_X86_AVX2"}},
		{"clear", "clear", nil, model.KindInternal, "", []string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := e.svc.SetNodeTraits(e.ctx, "n-1", tc.op, tc.traits)
			wantErr(t, err, tc.kind, tc.want)
			want := strings.Join(tc.after, ",")
			if got := e.getNode("n-1").Traits; strings.Join(got, ",") != want {
				t.Errorf("node traits %v, want %v", got, tc.after)
			}
			// The provider carries the node's traits.
			pt, err := e.pl.GetProviderTraits(e.ctx, n.UUID)
			e.must(err, "provider traits")
			var names []string
			for _, tr := range pt.Traits {
				names = append(names, tr.Name)
			}
			if strings.Join(sorted(names), ",") != want {
				t.Errorf("provider traits %v, want %v", names, tc.after)
			}
		})
	}
}

func TestSetProvisionState(t *testing.T) {
	for _, tc := range []struct {
		name  string
		from  string // nodeSpec state
		verbs []string
		want  string
		err   string
	}{
		{"manage", "enroll", []string{"manage"}, "manageable", ""},
		{"provide", "manageable", []string{"provide"}, "available", ""},
		{"deploy", "available", []string{"deploy"}, "active", ""},
		{"active is deploy", "available", []string{"active"}, "active", ""},
		{"rebuild", "active", []string{"rebuild"}, "active", ""},
		{"undeploy", "active", []string{"undeploy"}, "available", ""},
		{"deleted is undeploy", "active", []string{"deleted"}, "available", ""},
		{"manage an available node", "available", []string{"manage"}, "manageable", ""},
		{"adopt", "manageable", []string{"adopt"}, "active", ""},
		{"provide from enroll", "enroll", []string{"provide"}, "enroll",
			`The requested action "provide" can not be performed on node "%s" while it is in state "enroll".`},
		{"deploy from manageable", "manageable", []string{"deploy"}, "manageable",
			`The requested action "deploy" can not be performed on node "%s" while it is in state "manageable".`},
		{"abort", "available", []string{"abort"}, "available",
			`The requested action "abort" can not be performed on node "%s" while it is in state "available".`},
		{"unknown verb", "available", []string{"fly"}, "available", `Invalid provision state "fly": use one of manage, provide`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			n := e.node(nodeSpec{name: "n-1", rc: "gold", state: tc.from})
			var err error
			for _, v := range tc.verbs {
				if err = e.svc.SetProvisionState(e.ctx, "n-1", v); err != nil {
					break
				}
			}
			if tc.err == "" {
				wantErr(t, err, model.KindInternal, "")
			} else {
				want := tc.err
				if strings.Contains(want, "%s") {
					want = strings.ReplaceAll(want, "%s", n.UUID)
				}
				wantErr(t, err, model.KindBadRequest, want)
			}
			if got := e.getNode("n-1"); got.ProvisionState != tc.want || got.TargetProvisionState != nil {
				t.Errorf("state %q (target %v), want %q", got.ProvisionState, got.TargetProvisionState, tc.want)
			}
		})
	}
}

func TestSetPowerState(t *testing.T) {
	e := newEnv(t)
	e.node(nodeSpec{name: "n-1", rc: "gold", noPower: true})
	for _, tc := range []struct {
		target string
		want   string
		err    string
	}{
		{"power on", model.PowerOn, ""},
		{"soft power off", model.PowerOff, ""},
		{"rebooting", model.PowerOn, ""},
		{"power off", model.PowerOff, ""},
		{"explode", model.PowerOff, `Invalid power target "explode": use one of power on, power off, rebooting, soft power off, soft rebooting.`},
	} {
		t.Run(tc.target, func(t *testing.T) {
			err := e.svc.SetPowerState(e.ctx, "n-1", tc.target)
			if tc.err == "" {
				wantErr(t, err, model.KindInternal, "")
			} else {
				wantErr(t, err, model.KindBadRequest, tc.err)
			}
			if got := e.getNode("n-1").PowerState; got == nil || *got != tc.want {
				t.Errorf("power state %v, want %s", got, tc.want)
			}
		})
	}
	wantErr(t, e.svc.SetPowerState(e.ctx, "nope", "power on"), model.KindNotFound, "Node nope could not be found.")
}

func TestPatchNode(t *testing.T) {
	e := newEnv(t)
	n := e.node(nodeSpec{name: "n-1", rc: "gold"})
	e.node(nodeSpec{name: "other", rc: "gold"})
	for _, tc := range []struct {
		name  string
		patch string
		kind  model.Kind
		want  string
		check func(t *testing.T, n model.Node)
	}{
		{"rename", `[{"op": "replace", "path": "/name", "value": "n-2"}]`, model.KindInternal, "",
			func(t *testing.T, n model.Node) {
				if deref(n.Name) != "n-2" {
					t.Errorf("name %v", deref(n.Name))
				}
			}},
		{"extra and properties", `[{"op": "add", "path": "/extra/k", "value": "v"}, {"op": "add", "path": "/properties/cpus", "value": 8}]`, model.KindInternal, "",
			func(t *testing.T, n model.Node) {
				if n.Extra["k"] != "v" || n.Properties["cpus"] != float64(8) {
					t.Errorf("extra %v, properties %v", n.Extra, n.Properties)
				}
			}},
		{"descriptive field", `[{"op": "add", "path": "/description", "value": "rack 4"}]`, model.KindInternal, "",
			func(t *testing.T, n model.Node) {
				if n.Attrs["description"] != "rack 4" {
					t.Errorf("attrs %v", n.Attrs)
				}
			}},
		{"maintenance as a string", `[{"op": "replace", "path": "/maintenance", "value": "yes"}]`, model.KindInternal, "",
			func(t *testing.T, n model.Node) {
				if !n.Maintenance {
					t.Error("maintenance not on")
				}
				e.wantUnit(n.UUID, "CUSTOM_GOLD", 1, 0)
			}},
		{"maintenance off", `[{"op": "replace", "path": "/maintenance", "value": false}]`, model.KindInternal, "",
			func(t *testing.T, n model.Node) {
				if n.Maintenance {
					t.Error("maintenance still on")
				}
				e.wantUnit(n.UUID, "CUSTOM_GOLD", 0, 0)
			}},
		{"class change moves the unit", `[{"op": "replace", "path": "/resource_class", "value": "silver"}]`, model.KindInternal, "",
			func(t *testing.T, n model.Node) {
				e.wantUnit(n.UUID, "CUSTOM_SILVER", 0, 0)
				if _, ok := e.inventory(n.UUID, "CUSTOM_GOLD"); ok {
					t.Error("the old class's inventory stayed")
				}
			}},
		{"invalid name", `[{"op": "replace", "path": "/name", "value": "a b"}]`, model.KindBadRequest, "Cannot update node with invalid name 'a b'", nil},
		{"name like a uuid", `[{"op": "replace", "path": "/name", "value": "0C2D6B43-3F0A-4A7E-9D1C-5B6A7E8F9A0B"}]`, model.KindBadRequest,
			"Cannot update node with invalid name '0C2D6B43-3F0A-4A7E-9D1C-5B6A7E8F9A0B'", nil},
		{"name taken", `[{"op": "replace", "path": "/name", "value": "other"}]`, model.KindConflict, "A node with name other already exists.", nil},
		{"read-only field", `[{"op": "replace", "path": "/provision_state", "value": "active"}]`, model.KindBadRequest,
			"Cannot patch /provision_state: it is read-only or unknown.", nil},
		{"unknown field", `[{"op": "add", "path": "/colour", "value": "red"}]`, model.KindBadRequest, "Cannot patch /colour: it is read-only or unknown.", nil},
		{"other driver", `[{"op": "replace", "path": "/driver", "value": "ipmi"}]`, model.KindBadRequest, `The driver "ipmi" is not supported`, nil},
		{"driver removed", `[{"op": "remove", "path": "/driver"}]`, model.KindBadRequest, `The driver "" is not supported`, nil},
		{"missing member", `[{"op": "remove", "path": "/extra/nope"}]`, model.KindBadRequest,
			`Couldn't apply patch '{"op":"remove","path":"/extra/nope"}'. Reason: can't remove a non-existent object 'nope'`, nil},
		{"missing parent", `[{"op": "add", "path": "/extra/a/b", "value": 1}]`, model.KindBadRequest, "Reason: member 'a' not found in /extra", nil},
		{"not a string", `[{"op": "replace", "path": "/owner", "value": 5}]`, model.KindBadRequest, "Invalid value for owner: 5 is not a string", nil},
		{"not an object", `[{"op": "replace", "path": "/extra", "value": [1]}]`, model.KindBadRequest, "Invalid value for extra: it must be an object", nil},
		{"not a boolean", `[{"op": "replace", "path": "/maintenance", "value": "maybe"}]`, model.KindBadRequest, `Invalid value for maintenance: "maybe" is not a boolean`, nil},
		{"bad instance uuid", `[{"op": "add", "path": "/instance_uuid", "value": "xyz"}]`, model.KindBadRequest, "Expected a UUID for instance_uuid: xyz", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := e.getNode(n.UUID)
			got, err := e.tryPatchNode(n.UUID, tc.patch)
			wantErr(t, err, tc.kind, tc.want)
			if err != nil {
				if after := e.getNode(n.UUID); !reflect.DeepEqual(after, before) {
					t.Errorf("a refused patch changed the node:\n%+v\n%+v", before, after)
				}
				return
			}
			tc.check(t, got)
		})
	}
	_, err := e.tryPatchNode("nope", `[{"op": "add", "path": "/extra/k", "value": "v"}]`)
	wantErr(t, err, model.KindNotFound, "Node nope could not be found.")
}

func TestDeleteNode(t *testing.T) {
	inst := "3c4d5e6f-7a8b-4c9d-8e0f-1a2b3c4d5e6f"
	for _, tc := range []struct {
		name string
		spec nodeSpec
		// allocate gives the node an allocation first (and deploys it when
		// the spec's state is active).
		allocate    bool
		maintenance bool
		kind        model.Kind
		want        string
	}{
		{"available", nodeSpec{}, false, false, model.KindInternal, ""},
		{"enroll", nodeSpec{state: "enroll"}, false, false, model.KindInternal, ""},
		{"manageable", nodeSpec{state: "manageable"}, false, false, model.KindInternal, ""},
		{"active", nodeSpec{state: "active"}, false, false, model.KindConflict,
			`Can not delete node %s while it is in provision state "active": move it to manageable or available, or set maintenance mode, first.`},
		{"active in maintenance", nodeSpec{state: "active"}, false, true, model.KindInternal, ""},
		{"with an instance", nodeSpec{instance: inst}, false, false, model.KindConflict, "Node %s is associated with instance " + inst + "."},
		{"allocated", nodeSpec{}, true, false, model.KindConflict, "Node %s is associated with instance %a."},
		{"allocated and deployed", nodeSpec{state: "active"}, true, false, model.KindConflict, "Node %s is associated with instance %a."},
		{"allocated in maintenance", nodeSpec{}, true, true, model.KindInternal, ""},
		{"deployed in maintenance", nodeSpec{state: "active"}, true, true, model.KindInternal, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			tc.spec.name, tc.spec.rc = "n-1", "gold"
			deploy := tc.spec.state == model.StateActive && tc.allocate
			if deploy {
				tc.spec.state = ""
			}
			n := e.node(tc.spec)
			var a model.NodeAllocation
			if tc.allocate {
				a = e.allocate(AllocationCreate{ResourceClass: ptr("gold")})
				if a.State != model.AllocActive || a.NodeUUID != n.UUID {
					t.Fatalf("allocation: %+v", a)
				}
				if deploy {
					e.must(e.svc.SetProvisionState(e.ctx, "n-1", "deploy"), "deploy")
				}
			}
			if tc.maintenance {
				e.must(e.svc.SetMaintenance(e.ctx, "n-1", true, nil), "maintenance")
			}
			err := e.svc.DeleteNode(e.ctx, "n-1")
			want := strings.ReplaceAll(strings.ReplaceAll(tc.want, "%s", n.UUID), "%a", a.UUID)
			wantErr(t, err, tc.kind, want)
			if err != nil {
				e.getNode("n-1")
				if tc.allocate {
					e.wantClaim(a.UUID, n.UUID, "CUSTOM_GOLD")
				}
				return
			}
			_, err = e.svc.GetNode(e.ctx, "n-1")
			wantErr(t, err, model.KindNotFound, "Node n-1 could not be found.")
			if _, err := e.pl.GetInventories(e.ctx, n.UUID); !model.IsKind(err, model.KindNotFound) {
				t.Errorf("the node's provider outlived it: %v", err)
			}
			if tc.allocate {
				_, err := e.svc.GetAllocation(e.ctx, a.UUID)
				wantErr(t, err, model.KindNotFound, "Allocation "+a.UUID+" could not be found.")
				e.wantClaim(a.UUID, "", "")
			}
		})
	}
}

// TestPatchNodeInstanceOfAllocatedNode checks Ironic's instance_uuid rules
// on a node that holds an allocation, and that Placement follows.
func TestPatchNodeInstanceOfAllocatedNode(t *testing.T) {
	other := "6f5e4d3c-2b1a-4098-8f7e-6d5c4b3a2918"
	for _, tc := range []struct {
		name        string
		deploy      bool
		maintenance bool
		patch       string
		kind        model.Kind
		want        string
	}{
		{"replace", false, false, `[{"op": "replace", "path": "/instance_uuid", "value": "` + other + `"}]`, model.KindConflict, "Node %s is associated with instance %a."},
		{"remove while available", false, false, `[{"op": "remove", "path": "/instance_uuid"}]`, model.KindInternal, ""},
		{"remove while deployed", true, false, `[{"op": "remove", "path": "/instance_uuid"}]`, model.KindConflict,
			"Node %s with an allocation can not have instance_uuid removed unless it is in one of allowed (enroll, inspecting, inspect wait, manageable, available) states or in maintenance mode."},
		{"remove while deployed in maintenance", true, true, `[{"op": "remove", "path": "/instance_uuid"}]`, model.KindInternal, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			n := e.node(nodeSpec{name: "n-1", rc: "gold"})
			a := e.allocate(AllocationCreate{ResourceClass: ptr("gold")})
			if tc.deploy {
				e.must(e.svc.SetProvisionState(e.ctx, "n-1", "deploy"), "deploy")
			}
			if tc.maintenance {
				e.must(e.svc.SetMaintenance(e.ctx, "n-1", true, nil), "maintenance")
			}
			_, err := e.tryPatchNode("n-1", tc.patch)
			wantErr(t, err, tc.kind, strings.ReplaceAll(strings.ReplaceAll(tc.want, "%s", n.UUID), "%a", a.UUID))
			got := e.getNode("n-1")
			if err != nil {
				if deref(got.InstanceUUID) != a.UUID || got.AllocationUUID != a.UUID {
					t.Errorf("refused patch: node instance %v, allocation %q", deref(got.InstanceUUID), got.AllocationUUID)
				}
				e.wantClaim(a.UUID, n.UUID, "CUSTOM_GOLD")
				return
			}
			// Removing the instance deleted the allocation and its claim.
			if got.InstanceUUID != nil || got.AllocationUUID != "" {
				t.Errorf("node keeps instance %v, allocation %q", deref(got.InstanceUUID), got.AllocationUUID)
			}
			_, err = e.svc.GetAllocation(e.ctx, a.UUID)
			wantErr(t, err, model.KindNotFound, "could not be found")
			e.wantClaim(a.UUID, "", "")
			if !tc.deploy {
				e.wantUnit(n.UUID, "CUSTOM_GOLD", 0, 0)
			}
		})
	}
}

// TestPatchNodeClassMovesClaim checks that an allocated node changing class
// keeps its allocation, whose claim moves to the new class.
func TestPatchNodeClassMovesClaim(t *testing.T) {
	e := newEnv(t)
	n := e.node(nodeSpec{name: "n-1", rc: "gold"})
	a := e.allocate(AllocationCreate{ResourceClass: ptr("gold")})
	e.wantClaim(a.UUID, n.UUID, "CUSTOM_GOLD")
	e.patchNode("n-1", `[{"op": "replace", "path": "/resource_class", "value": "silver"}]`)
	e.wantClaim(a.UUID, n.UUID, "CUSTOM_SILVER")
	e.wantUnit(n.UUID, "CUSTOM_SILVER", 0, 1)
	if _, ok := e.inventory(n.UUID, "CUSTOM_GOLD"); ok {
		t.Error("the old class's inventory stayed after the claim moved")
	}
	if got := e.getAllocation(a.UUID); got.ResourceClass != "gold" || got.NodeUUID != n.UUID {
		t.Errorf("allocation after the class change: %+v", got)
	}
	// Deleting the allocation releases the moved claim.
	e.must(e.svc.DeleteAllocation(e.ctx, a.UUID), "delete allocation")
	e.wantClaim(a.UUID, "", "")
	e.wantUnit(n.UUID, "CUSTOM_SILVER", 0, 0)
}
