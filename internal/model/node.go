package model

import "time"

// Node is a bare-metal machine. It is also a resource provider (same UUID)
// offering one unit of its resource class. Whether a node may be given to an
// allocation is decided in one place, the baremetal package's fit rule.
type Node struct {
	ID                   int64
	UUID                 string
	Name                 *string
	Driver               string
	ResourceClass        *string
	ProvisionState       string
	TargetProvisionState *string
	PowerState           *string
	TargetPowerState     *string
	Maintenance          bool
	MaintenanceReason    *string
	InstanceUUID         *string
	// AllocationID and AllocationUUID name the node's allocation (0/"" if none).
	AllocationID   int64
	AllocationUUID string
	Owner          *string
	Lessee         *string
	Properties     map[string]any
	Extra          map[string]any
	InstanceInfo   map[string]any
	DriverInfo     map[string]any
	// Attrs holds the other node fields clients may set (interfaces,
	// description, conductor group, ...) as they were given.
	Attrs              map[string]any
	Traits             []string
	LastError          *string
	ProvisionUpdatedAt time.Time
	CreatedAt          time.Time
	UpdatedAt          time.Time
}

// Provision states of the bare-metal state machine that allot's rules name
// (the baremetal package's transition table spells out the others).
const (
	StateEnroll    = "enroll"
	StateAvailable = "available"
	StateActive    = "active"
)

// Power states.
const (
	PowerOn  = "power on"
	PowerOff = "power off"
)

// NodeAllocation is a request for one node of a resource class.
type NodeAllocation struct {
	ID             int64
	UUID           string
	Name           *string
	NodeID         int64
	NodeUUID       string
	State          string
	LastError      *string
	ResourceClass  string
	Traits         []string
	CandidateNodes []string
	Extra          map[string]any
	Owner          *string
	// Worker and LeaseUntil record which worker processes an allocating
	// allocation, and until when; an expired lease may be taken over.
	Worker     string
	LeaseUntil time.Time
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// Allocation states.
const (
	AllocAllocating = "allocating"
	AllocActive     = "active"
	AllocError      = "error"
)

// NodeResourceClass turns a node's resource class into the Placement class
// that represents it: upper case, every other character than A-Z, 0-9 and
// _ replaced by _, with the CUSTOM_ prefix (as Nova's Ironic driver does).
func NodeResourceClass(rc string) string {
	b := []byte(rc)
	for i, c := range b {
		switch {
		case c >= 'a' && c <= 'z':
			b[i] = c - 'a' + 'A'
		case c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '_':
		default:
			b[i] = '_'
		}
	}
	s := string(b)
	if len(s) >= len(CustomPrefix) && s[:len(CustomPrefix)] == CustomPrefix {
		return s
	}
	return CustomPrefix + s
}

// NodeCount is how many nodes share these values (a group of
// store.Tx.CountNodes). A nil PowerState or ResourceClass is one not set.
type NodeCount struct {
	ProvisionState string
	PowerState     *string
	Maintenance    bool
	ResourceClass  *string
	// Allocated is whether the nodes have an allocation.
	Allocated bool
	Count     int
}

// NodeAllocationCount is how many allocations are in State with Owner
// (nil: none), a group of store.Tx.CountNodeAllocationsByOwner.
type NodeAllocationCount struct {
	State string
	Owner *string
	Count int
}
