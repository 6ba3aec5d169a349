package model

import "time"

// Consumer is whatever holds allocations (an instance, a migration, a
// bare-metal allocation).
type Consumer struct {
	ID           int64
	UUID         string
	ProjectID    string
	UserID       string
	ConsumerType string // empty when unknown (written before 1.38)
	Generation   int64
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// Allocation is an amount of one class on one provider held by a consumer,
// with the generations of both as they were read.
type Allocation struct {
	ConsumerUUID       string
	ConsumerGeneration int64
	ProviderID         int64
	ProviderUUID       string
	ProviderGeneration int64
	ClassID            int64
	ResourceClass      string
	Used               int64
	CreatedAt          time.Time
	UpdatedAt          time.Time
}

// IncompleteConsumerProject and IncompleteConsumerUser fill in a consumer's
// project and user when an old microversion did not send them.
const (
	IncompleteConsumerProject = "00000000-0000-0000-0000-000000000000"
	IncompleteConsumerUser    = "00000000-0000-0000-0000-000000000000"
)
