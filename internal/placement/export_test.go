package placement

// PendingClaims counts the single claims waiting for, or in, a group
// commit (atomicclaim_batch.go).
func (s *Service) PendingClaims() int {
	s.claimBatch.mu.Lock()
	defer s.claimBatch.mu.Unlock()
	return s.claimBatch.pending
}

// IndexDump is the canonical text of the service's candidate index
// (engine.Canonical), for comparing an index caught up through the change
// feed with one loaded from scratch.
func (s *Service) IndexDump() string { return s.engine.Canonical() }
