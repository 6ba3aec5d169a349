package placement

// PendingClaims counts the single claims waiting for, or in, a group
// commit (atomicclaim_batch.go).
func (s *Service) PendingClaims() int {
	s.claimBatch.mu.Lock()
	defer s.claimBatch.mu.Unlock()
	return s.claimBatch.pending
}
