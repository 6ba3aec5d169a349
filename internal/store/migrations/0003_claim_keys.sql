-- Idempotency keys of the atomic claim extension (POST /allot/v1/claims):
-- the answer of a successful claim, kept so that a client retrying with
-- the same key gets the same answer instead of a second claim. Rows older
-- than a day are pruned by the claims themselves.
CREATE TABLE claim_keys (
    idempotency_key TEXT PRIMARY KEY,
    request_hash TEXT NOT NULL,
    answer TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX claim_keys_created_at ON claim_keys (created_at);
