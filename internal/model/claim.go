package model

// ClaimAnswer is what a successful claim wrote; it is what the
// atomic claim extension answers, and what an idempotency key keeps.
type ClaimAnswer struct {
	Claims []ClaimedConsumer `json:"claims"`
}

// ClaimedConsumer is what one consumer of a claim received.
type ClaimedConsumer struct {
	ConsumerUUID       string `json:"consumer_uuid"`
	ConsumerGeneration int64  `json:"consumer_generation"`
	ProjectID          string `json:"project_id"`
	UserID             string `json:"user_id"`
	ConsumerType       string `json:"consumer_type,omitempty"`
	// Allocations is the candidate written: provider uuid -> resources.
	Allocations map[string]ClaimedResources `json:"allocations"`
	// Mappings says which providers satisfied which request group (as in
	// allocation candidates from 1.34).
	Mappings map[string][]string `json:"mappings"`
	// RootProviderUUIDs names the tree(s) of the candidate chosen (the
	// roots of its providers, sharing providers aside).
	RootProviderUUIDs []string `json:"root_provider_uuids"`
}

// ClaimedResources is what a consumer holds on one provider.
type ClaimedResources struct {
	Resources map[string]int64 `json:"resources"`
}
