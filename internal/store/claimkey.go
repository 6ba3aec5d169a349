package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// ClaimKeyRetention is how long the answer of an atomic claim stays
// available under its idempotency key.
const ClaimKeyRetention = 24 * time.Hour

// ClaimKey is the stored answer of an atomic claim under its idempotency
// key.
type ClaimKey struct {
	// RequestHash identifies the request that made the claim.
	RequestHash string
	// Answer is the claim's answer as JSON.
	Answer []byte
}

// ClaimKey reads the answer stored under an idempotency key. Keys older
// than ClaimKeyRetention are not returned.
func (t *Tx) ClaimKey(ctx context.Context, key string) (ck ClaimKey, ok bool, err error) {
	var answer string
	err = t.queryRow(ctx, `SELECT request_hash, answer FROM claim_keys WHERE idempotency_key = $1 AND created_at >= $2`,
		key, micros(t.now.Add(-ClaimKeyRetention))).Scan(&ck.RequestHash, &answer)
	if errors.Is(err, sql.ErrNoRows) {
		return ClaimKey{}, false, nil
	}
	if err != nil {
		return ClaimKey{}, false, fmt.Errorf("reading idempotency key: %w", err)
	}
	ck.Answer = []byte(answer)
	return ck, true, nil
}

// ReserveClaimKey records an idempotency key with the hash of the request
// using it, to be given its answer by SetClaimAnswer in the same
// transaction, after pruning keys older than ClaimKeyRetention. It returns
// false when the key is already stored (by a claim committed meanwhile: on
// PostgreSQL the insert waits for a concurrent transaction holding the
// same key); the caller then reads it with ClaimKey.
func (t *Tx) ReserveClaimKey(ctx context.Context, key, requestHash string) (bool, error) {
	if _, err := t.exec(ctx, `DELETE FROM claim_keys WHERE created_at < $1`, micros(t.now.Add(-ClaimKeyRetention))); err != nil {
		return false, fmt.Errorf("pruning idempotency keys: %w", err)
	}
	res, err := t.exec(ctx, `INSERT INTO claim_keys (idempotency_key, request_hash, answer, created_at)
		VALUES ($1, $2, '', $3) ON CONFLICT (idempotency_key) DO NOTHING`, key, requestHash, micros(t.now))
	if err != nil {
		return false, fmt.Errorf("recording idempotency key: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("recording idempotency key: %w", err)
	}
	return n == 1, nil
}

// SetClaimAnswer stores the answer of the claim that reserved key.
func (t *Tx) SetClaimAnswer(ctx context.Context, key string, answer []byte) error {
	if _, err := t.exec(ctx, `UPDATE claim_keys SET answer = $1 WHERE idempotency_key = $2`, string(answer), key); err != nil {
		return fmt.Errorf("storing the answer of idempotency key: %w", err)
	}
	return nil
}
