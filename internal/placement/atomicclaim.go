package placement

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"allot/internal/engine"
	"allot/internal/metrics"
	"allot/internal/model"
	"allot/internal/query"
	"allot/internal/store"
)

// The atomic claim (allot's extension POST /allot/v1/claims, issue 16)
// chooses allocation candidates and writes them in one call: the search
// runs on the engine, then one store transaction locks the providers of a
// window of candidates, plans the consumers' allocations on the first
// candidates that fit with the same planner as every other write
// (planClaims) and applies the plan. A candidate the engine offered but
// the store refuses (a write the engine has not seen yet, on this replica
// or another) is skipped for the next; when the candidates run out, the
// engine catches up and the search runs once more. So a client sees a
// conflict only when nothing fits any more. A single claim passes over the
// candidates a concurrent transaction is writing (SKIP LOCKED) instead of
// queueing behind it, so that claims in the same order (pack, spread) do
// not all wait for the same tree.
//
// Several consumers make a gang claim: all of them or none, each on a
// candidate of its own that obeys the Distinct rule, planned together so
// that what they take is checked summed, and written in one transaction.
//
// On SQLite, single claims waiting for the writer commit together, each in
// a savepoint of one transaction (atomicclaim_batch.go).

// Codes of the claim's own errors (Placement's error format, allot's codes).
const (
	// CodeClaimNoFit: no candidate (or no set of distinct candidates, for
	// a gang) fits the claim.
	CodeClaimNoFit = "allot.claim.no_fit"
	// CodeClaimKeyReused: the idempotency key was used by another request.
	CodeClaimKeyReused = "allot.claim.idempotency_key_reused"
)

// Bounds of a claim's work.
const (
	// MaxClaimConsumers bounds the consumers of one (gang) claim.
	MaxClaimConsumers = 256
	// claimWindow is how many candidates one transaction of a
	// single-consumer claim considers: those a concurrent claim is not
	// writing, or all of them when every one is.
	claimWindow = 8
	// claimTransactions bounds the store transactions of one claim.
	claimTransactions = 12
	// claimRounds bounds the candidate searches of one claim.
	claimRounds = 2
	// claimDefaultLimit is the candidates a claim whose query names no
	// limit considers (per consumer, at least this many).
	claimDefaultLimit = 64
)

// DistinctKind names a gang claim's spread rule.
type DistinctKind string

// The spread rules of a gang claim.
const (
	// DistinctNone lets consumers share trees (summed capacity is checked).
	DistinctNone DistinctKind = ""
	// DistinctRoot puts no two consumers in the same provider tree.
	DistinctRoot DistinctKind = "root"
	// DistinctAggregate puts no two consumers in trees sharing an
	// aggregate (of the root or of a provider allocated from).
	DistinctAggregate DistinctKind = "aggregate"
	// DistinctTraitPrefix puts no two consumers in trees whose roots carry
	// the same trait of a prefix (e.g. CUSTOM_RACK_ for racks).
	DistinctTraitPrefix DistinctKind = "trait_prefix"
)

// DistinctRule is a gang claim's spread rule. Every rule but DistinctNone
// also keeps consumers in different trees.
type DistinctRule struct {
	Kind DistinctKind
	// TraitPrefix is the prefix of DistinctTraitPrefix.
	TraitPrefix string
}

// ParseDistinct reads a spread rule: "", "root", "aggregate" or
// "trait_prefix:PREFIX".
func ParseDistinct(s string) (DistinctRule, error) {
	switch s {
	case "":
		return DistinctRule{}, nil
	case string(DistinctRoot):
		return DistinctRule{Kind: DistinctRoot}, nil
	case string(DistinctAggregate):
		return DistinctRule{Kind: DistinctAggregate}, nil
	}
	if prefix, ok := strings.CutPrefix(s, string(DistinctTraitPrefix)+":"); ok {
		if prefix == "" || strings.ContainsAny(prefix, " ,:") {
			return DistinctRule{}, model.BadRequest("Invalid distinct rule %q: trait_prefix needs a trait name prefix, e.g. trait_prefix:CUSTOM_RACK_", s)
		}
		return DistinctRule{Kind: DistinctTraitPrefix, TraitPrefix: prefix}, nil
	}
	return DistinctRule{}, model.BadRequest("Invalid distinct rule %q: use root, aggregate or trait_prefix:PREFIX", s)
}

// String is the rule as ParseDistinct reads it.
func (d DistinctRule) String() string {
	if d.Kind == DistinctTraitPrefix {
		return string(d.Kind) + ":" + d.TraitPrefix
	}
	return string(d.Kind)
}

// ClaimConsumer is a consumer an atomic claim gives allocations to.
type ClaimConsumer struct {
	UUID              string
	ProjectID, UserID string
	// ConsumerType is empty when not given.
	ConsumerType string
	// Generation is the consumer generation the client last saw; nil
	// means the consumer must be new.
	Generation *int64
}

// ClaimRequest is an atomic (or, with several consumers, gang) claim.
type ClaimRequest struct {
	Consumers []ClaimConsumer
	// Query is the parsed candidates query; QueryString is its text, for
	// messages and for the idempotency check.
	Query       query.Candidates
	QueryString string
	// Strategy names the candidate order (engine.ParseOrder); empty keeps
	// the server's.
	Strategy string
	// Prefer ranks the candidates of trees with these traits or in these
	// aggregates first, by weight (as GET /allot/v1/allocation_candidates).
	Prefer   []engine.Preference
	Distinct DistinctRule
	// IdempotencyKey, when not empty, makes the claim repeatable: the same
	// key with the same request answers the first claim's answer again.
	IdempotencyKey string
}

// The claim's answer types are model's: the API answers them as they are,
// an idempotency key keeps them, and the client reads them back.
type (
	ClaimAnswer      = model.ClaimAnswer
	ClaimedConsumer  = model.ClaimedConsumer
	ClaimedResources = model.ClaimedResources
)

// ClaimOutcome is the result of Claim.
type ClaimOutcome struct {
	Answer ClaimAnswer
	// Replayed is set when the answer is the one stored under the
	// idempotency key: nothing was claimed by this call.
	Replayed bool
	// Transactions counts the store transactions this call used.
	Transactions int
}

// Claim chooses candidates for the consumers of req and writes their
// allocations in one store transaction (see the top of this file). It
// answers a 409 with CodeClaimNoFit when nothing fits, Placement's 409
// when a consumer generation does not match, and a 409 with
// CodeClaimKeyReused when the idempotency key was used by a different
// request.
func (s *Service) Claim(ctx context.Context, req ClaimRequest) (ClaimOutcome, error) {
	out, err := s.claim(ctx, req)
	s.m.ClaimRetries(out.Transactions - 1)
	if !out.Replayed {
		s.counted(metrics.OpClaim, err)
	}
	return out, err
}

// claim is Claim, uncounted.
func (s *Service) claim(ctx context.Context, req ClaimRequest) (ClaimOutcome, error) {
	var out ClaimOutcome
	if err := req.validate(); err != nil {
		return out, err
	}
	order, err := engine.ParseOrder(req.Strategy)
	if err != nil {
		return out, model.BadRequest("Invalid strategy: %v", err)
	}
	hash := req.hash()
	if req.IdempotencyKey != "" {
		var ck store.ClaimKey
		var found bool
		err := s.store.Read(ctx, func(tx *store.Tx) error {
			var err error
			ck, found, err = tx.ClaimKey(ctx, req.IdempotencyKey)
			return err
		})
		if err != nil {
			return out, err
		}
		if found {
			out.Answer, err = replayClaim(req.IdempotencyKey, hash, ck)
			out.Replayed = err == nil
			return out, err
		}
	}
	var best *noFitError
	for round := 0; round < claimRounds && out.Transactions < claimTransactions; round++ {
		cands, err := s.claimCandidates(ctx, req, order)
		if err != nil {
			return out, err
		}
		if len(cands) == 0 {
			break // the search caught up with the store: another would find nothing either
		}
		window := claimWindow
		if len(req.Consumers) > 1 {
			window = len(cands) // a gang chooses among all of them at once
		}
		for pos := 0; pos < len(cands) && out.Transactions < claimTransactions; pos += window {
			end := min(pos+window, len(cands))
			out.Transactions++
			answer, replayed, err := s.claimOnce(ctx, req, hash, cands[pos:end], false)
			var nf *noFitError
			if errors.As(err, &nf) && len(nf.busy) > 0 && out.Transactions < claimTransactions {
				// Wait for the candidates others were writing.
				out.Transactions++
				answer, replayed, err = s.claimOnce(ctx, req, hash, nf.busy, true)
			}
			if err == nil {
				out.Answer, out.Replayed = answer, replayed
				return out, nil
			}
			if !errors.As(err, &nf) {
				return out, err
			}
			nf.tried = end
			if best == nil || nf.placed > best.placed || (nf.placed == best.placed && nf.tried > best.tried) {
				best = nf
			}
		}
	}
	return out, req.noFit(best)
}

// validate checks what the API's schema cannot.
func (req *ClaimRequest) validate() error {
	if len(req.Consumers) == 0 {
		return model.BadRequest("A claim needs at least one consumer")
	}
	if len(req.Consumers) > MaxClaimConsumers {
		return model.BadRequest("A claim has at most %d consumers, not %d", MaxClaimConsumers, len(req.Consumers))
	}
	seen := make(map[string]bool, len(req.Consumers))
	for _, c := range req.Consumers {
		if seen[c.UUID] {
			return model.BadRequest("Consumer %s is named twice in the claim: each consumer gets one candidate", c.UUID)
		}
		seen[c.UUID] = true
		if c.ProjectID == "" || c.UserID == "" {
			return model.BadRequest("Consumer %s needs a project_id and a user_id", c.UUID)
		}
	}
	if len(req.Query.Groups) == 0 {
		return model.BadRequest("The claim's query names no resources: give at least resources=CLASS:AMOUNT")
	}
	return nil
}

// hash identifies a request for its idempotency key: everything but the
// key itself.
func (req *ClaimRequest) hash() string {
	b, _ := json.Marshal(struct {
		Consumers []ClaimConsumer
		Query     string
		Strategy  string
		Prefer    []engine.Preference `json:",omitempty"`
		Distinct  string
	}{req.Consumers, req.QueryString, req.Strategy, req.Prefer, req.Distinct.String()})
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// replayClaim answers a request whose idempotency key is already stored.
func replayClaim(key, hash string, ck store.ClaimKey) (ClaimAnswer, error) {
	var answer ClaimAnswer
	if ck.RequestHash != hash {
		return answer, model.Conflict("Idempotency key %q was already used by a different claim request: use a new key for a new claim, or resend the original request unchanged", key).WithCode(CodeClaimKeyReused)
	}
	if err := json.Unmarshal(ck.Answer, &answer); err != nil {
		return answer, fmt.Errorf("reading the stored answer of idempotency key %q: %w", key, err)
	}
	return answer, nil
}

// noFitError is why one transaction of a claim found no candidate (or no
// gang of candidates) that fits.
type noFitError struct {
	// placed is how many consumers got a candidate before one found none.
	placed int
	// tried is how many candidates were considered.
	tried int
	// last is the planner's refusal of the last candidate tried.
	last error
	// busy lists the candidates a single claim passed over because a
	// concurrent transaction was writing them.
	busy []claimCandidate
}

func (e *noFitError) Error() string {
	return fmt.Sprintf("no candidate fits (%d consumers placed, %d candidates tried)", e.placed, e.tried)
}

// noFit is the client's 409 when nothing fits.
func (req *ClaimRequest) noFit(best *noFitError) error {
	if best == nil {
		return model.Conflict("No allocation candidates for query '%s': no provider tree has the free capacity and the traits, aggregates and tree shape asked for", req.QueryString).WithCode(CodeClaimNoFit)
	}
	why := ""
	if best.last != nil {
		why = "; the last refused: " + best.last.Error()
	}
	if len(req.Consumers) == 1 {
		return model.Conflict("No allocation candidate fits the claim for query '%s' any more: %d candidates tried%s", req.QueryString, best.tried, why).WithCode(CodeClaimNoFit)
	}
	rule := "without a distinct rule"
	if req.Distinct.Kind != DistinctNone {
		rule = "with distinct " + req.Distinct.String()
	}
	return model.Conflict("The gang claim of %d consumers does not fit: at most %d could be placed together %s among %d candidates for query '%s'%s; nothing was claimed", len(req.Consumers), best.placed, rule, best.tried, req.QueryString, why).WithCode(CodeClaimNoFit)
}

// claimCandidate is a candidate as a claim uses it, copied out of the
// engine's result.
type claimCandidate struct {
	allocs   []ProviderResources
	mappings map[string][]string
	// roots are the trees of the candidate (the roots of the providers it
	// allocates from, sharing providers aside unless it only uses those).
	roots []string
	// homes are the providers whose aggregates are the candidate's domain
	// for DistinctAggregate: its roots and its non-sharing providers.
	homes []string
	// keys are the domains two consumers of a gang may not share.
	keys []string
}

// shareTrait marks a sharing provider.
const shareTrait = "MISC_SHARES_VIA_AGGREGATE"

// claimCandidates runs the claim's search and copies its candidates out.
func (s *Service) claimCandidates(ctx context.Context, req ClaimRequest, order engine.Order) ([]claimCandidate, error) {
	if err := s.Sync(ctx); err != nil {
		return nil, err
	}
	opts := s.search
	opts.Done = ctx.Done()
	if req.Strategy != "" {
		opts.Order = order
		opts.Randomize = order == engine.OrderRandom
	}
	opts.Prefer = req.Prefer
	q := req.Query
	if q.Limit == 0 {
		q.Limit = max(claimDefaultLimit, 4*len(req.Consumers))
	}
	res, err := s.candidates(q, opts)
	if err != nil {
		return nil, err
	}
	defer res.Release()
	if ctx.Err() != nil {
		return nil, fmt.Errorf("the claim's candidates search was abandoned: %w", ctx.Err())
	}
	return copyCandidates(res, req.Distinct), nil
}

// copyCandidates copies what a claim needs out of a result (whose memory
// the engine reuses after Release) and derives each candidate's domains
// for the distinct rule (but aggregates, read from the store).
func copyCandidates(res *engine.Result, rule DistinctRule) []claimCandidate {
	sums := make(map[string]*engine.Summary, len(res.Summaries))
	for i := range res.Summaries {
		sums[res.Summaries[i].UUID] = &res.Summaries[i]
	}
	out := make([]claimCandidate, 0, len(res.Requests))
	for _, r := range res.Requests {
		var c claimCandidate
		var shared []string
		for _, pa := range r.Allocations {
			pr := ProviderResources{ProviderUUID: strings.Clone(pa.UUID), Resources: make([]ClassAmount, len(pa.Amounts))}
			for i, ca := range pa.Amounts {
				pr.Resources[i] = ClassAmount{Class: strings.Clone(ca.Class), Amount: ca.Amount}
			}
			c.allocs = append(c.allocs, pr)
			root := pr.ProviderUUID
			sharing := false
			if s := sums[pa.UUID]; s != nil {
				if s.RootUUID != "" {
					root = strings.Clone(s.RootUUID)
				}
				sharing = slices.Contains(s.Traits, shareTrait)
			}
			if sharing {
				shared = append(shared, root)
				continue
			}
			c.roots = append(c.roots, root)
			c.homes = append(c.homes, pr.ProviderUUID)
		}
		if len(c.roots) == 0 {
			c.roots = shared
		}
		slices.Sort(c.roots)
		c.roots = slices.Compact(c.roots)
		c.homes = append(c.homes, c.roots...)
		slices.Sort(c.homes)
		c.homes = slices.Compact(c.homes)
		c.mappings = make(map[string][]string, len(r.Mappings))
		for _, m := range r.Mappings {
			ps := make([]string, len(m.Providers))
			for i, p := range m.Providers {
				ps[i] = strings.Clone(p)
			}
			c.mappings[strings.Clone(m.Suffix)] = ps
		}
		if rule.Kind != DistinctNone {
			for _, root := range c.roots {
				c.keys = append(c.keys, "root:"+root)
				if rule.Kind != DistinctTraitPrefix {
					continue
				}
				if s := sums[root]; s != nil {
					for _, t := range s.Traits {
						if strings.HasPrefix(t, rule.TraitPrefix) {
							c.keys = append(c.keys, "trait:"+t)
						}
					}
				}
			}
		}
		out = append(out, c)
	}
	return out
}

// claimOnce is one store transaction of a claim over a window of
// candidates: the idempotency key, lock and read, assign and plan, apply.
// A *noFitError says that no candidate of the window fits.
//
// A single claim takes the candidates it can lock without waiting
// (claimSingle; with wait, it first waits for the first candidate); a
// gang locks every provider of the window in id order, waiting for them
// (claimWaiting).
func (s *Service) claimOnce(ctx context.Context, req ClaimRequest, hash string, cands []claimCandidate, wait bool) (answer ClaimAnswer, replayed bool, err error) {
	if len(req.Consumers) == 1 && s.groupsClaims() {
		return s.claimBatch.claim(ctx, s, req, hash, cands, wait)
	}
	err = s.store.Write(ctx, func(tx *store.Tx) error {
		var err error
		answer, replayed, err = claimInTx(ctx, tx, req, hash, cands, wait)
		return err
	})
	return answer, replayed, err
}

// claimInTx is the work of claimOnce in the transaction tx.
func claimInTx(ctx context.Context, tx *store.Tx, req ClaimRequest, hash string, cands []claimCandidate, wait bool) (answer ClaimAnswer, replayed bool, err error) {
	if req.IdempotencyKey != "" {
		fresh, err := tx.ReserveClaimKey(ctx, req.IdempotencyKey, hash)
		if err != nil {
			return answer, false, err
		}
		if !fresh {
			ck, found, err := tx.ClaimKey(ctx, req.IdempotencyKey)
			if err != nil {
				return answer, false, err
			}
			if !found {
				return answer, false, fmt.Errorf("idempotency key %q is stored but cannot be read", req.IdempotencyKey)
			}
			answer, err = replayClaim(req.IdempotencyKey, hash, ck)
			return answer, err == nil, err
		}
	}
	reqs := make([]ConsumerAllocations, len(req.Consumers))
	for i, c := range req.Consumers {
		reqs[i] = ConsumerAllocations{
			ConsumerUUID: c.UUID, ProjectID: c.ProjectID, UserID: c.UserID, ConsumerType: c.ConsumerType,
			CheckGeneration: true, ConsumerGeneration: c.Generation,
			Allocations: cands[0].allocs,
		}
	}
	var read *claimRead
	var window []claimCandidate
	var chosen []int
	if len(reqs) == 1 {
		read, window, chosen, err = claimSingle(ctx, tx, reqs, cands, wait)
	} else {
		window = cands
		read, chosen, err = claimWaiting(ctx, tx, req, reqs, window)
	}
	if err != nil {
		return answer, false, err
	}
	plan, err := planClaims(read, reqs, planOptions{})
	if err != nil {
		return answer, false, err
	}
	if err := applyClaims(ctx, tx, plan); err != nil {
		return answer, false, err
	}
	answer = claimAnswer(req, read, window, chosen)
	if req.IdempotencyKey != "" {
		b, err := json.Marshal(answer)
		if err != nil {
			return answer, false, fmt.Errorf("encoding the claim's answer: %w", err)
		}
		if err := tx.SetClaimAnswer(ctx, req.IdempotencyKey, b); err != nil {
			return answer, false, err
		}
	}
	return answer, false, nil
}

// claimWaiting locks the consumers and every provider of the window
// (waiting for them, in id order), reads, and assigns a candidate to each
// consumer.
func claimWaiting(ctx context.Context, tx *store.Tx, req ClaimRequest, reqs []ConsumerAllocations, window []claimCandidate) (*claimRead, []int, error) {
	var lock []string
	for _, c := range window {
		lock = append(lock, uuidsOf(c)...)
	}
	read, err := lockClaims(ctx, tx, reqs, lock)
	if err != nil {
		return nil, nil, err
	}
	if err := read.readInventories(ctx, tx); err != nil {
		return nil, nil, err
	}
	keys := make([][]string, len(window))
	for i := range window {
		keys[i] = window[i].keys
	}
	if req.Distinct.Kind == DistinctAggregate {
		if keys, err = aggregateKeys(ctx, tx, window); err != nil {
			return nil, nil, err
		}
	}
	chosen, err := assignClaims(read, reqs, window, keys)
	if err != nil {
		return nil, nil, err
	}
	return read, chosen, nil
}

// claimSingle is the way of a single claim: it locks the consumer (and
// what it holds), then takes the candidates in order, passing over those a
// concurrent transaction is writing (their providers are locked without
// waiting: SKIP LOCKED on PostgreSQL, while SQLite has one writer), and
// plans the consumer on each it could lock until one fits. So claims in
// the same order (pack, spread) do not queue behind the one writing the
// first tree. When none fits, the *noFitError lists the candidates passed
// over, for another transaction, after this one released its locks, that
// waits for the first of them (waitFirst), then goes on without waiting.
// Locks are taken as every writer takes them: the consumer first, then
// providers; the providers locked without waiting cannot close a cycle.
func claimSingle(ctx context.Context, tx *store.Tx, reqs []ConsumerAllocations, cands []claimCandidate, waitFirst bool) (*claimRead, []claimCandidate, []int, error) {
	// The request names the first candidate so that a new consumer is
	// inserted (its lock) and the query's classes resolve.
	reqs[0].Allocations = cands[0].allocs
	read, heldOn, err := lockConsumers(ctx, tx, reqs)
	if err != nil {
		return nil, nil, nil, err
	}
	if err := read.lockProviders(ctx, tx, heldOn, nil); err != nil {
		return nil, nil, nil, err
	}
	if err := read.resolveClasses(ctx, tx, reqs); err != nil {
		return nil, nil, nil, err
	}
	if err := read.readInventories(ctx, tx); err != nil {
		return nil, nil, nil, err
	}
	nf := &noFitError{tried: len(cands)}
	for j := range cands {
		uuids := uuidsOf(cands[j])
		if j > 0 || !waitFirst { // else extend waits for them
			free, err := tx.TryLockProviders(ctx, uuids)
			if err != nil {
				return nil, nil, nil, err
			}
			if slices.ContainsFunc(uuids, func(u string) bool { return !free[u] }) {
				nf.busy = append(nf.busy, cands[j])
				continue
			}
		}
		reqs[0].Allocations = cands[j].allocs
		if err := read.extend(ctx, tx, uuids); err != nil {
			return nil, nil, nil, err
		}
		chosen, err := assignClaims(read, reqs, cands[j:j+1], [][]string{nil})
		var refused *noFitError
		if errors.As(err, &refused) {
			nf.last = refused.last
			continue
		}
		return read, cands[j : j+1], chosen, err
	}
	return nil, nil, nil, nf
}

// extend adds to what was read the providers named (locking them, which
// waits only for those the caller has not locked) and their inventories.
func (read *claimRead) extend(ctx context.Context, tx *store.Tx, uuids []string) error {
	if err := read.lockProviders(ctx, tx, nil, uuids); err != nil {
		return err
	}
	ids := make([]int64, 0, len(uuids))
	for _, u := range uuids {
		if p, ok := read.providers[u]; ok {
			ids = append(ids, p.ID)
		}
	}
	invs, err := tx.InventoriesOf(ctx, ids)
	if err != nil {
		return fmt.Errorf("reading inventories: %w", err)
	}
	for k, inv := range invs {
		read.inventories[k] = inv
	}
	return nil
}

// uuidsOf lists the providers a candidate allocates from.
func uuidsOf(c claimCandidate) []string {
	out := make([]string, len(c.allocs))
	for i, pr := range c.allocs {
		out[i] = pr.ProviderUUID
	}
	return out
}

// aggregateKeys adds to each candidate's domains the aggregates of its
// roots and non-sharing providers, read in the claim's transaction.
func aggregateKeys(ctx context.Context, tx *store.Tx, cands []claimCandidate) ([][]string, error) {
	var uuids []string
	for _, c := range cands {
		uuids = append(uuids, c.homes...)
	}
	providers, err := tx.ProvidersByUUID(ctx, uuids)
	if err != nil {
		return nil, fmt.Errorf("reading the providers of the claim's candidates: %w", err)
	}
	aggs := map[string][]string{}
	keys := make([][]string, len(cands))
	for i, c := range cands {
		keys[i] = slices.Clone(c.keys)
		for _, u := range c.homes {
			p, ok := providers[u]
			if !ok {
				continue // deleted since the search: the planner refuses it
			}
			a, done := aggs[u]
			if !done {
				if a, err = tx.ProviderAggregates(ctx, p.ID); err != nil {
					return nil, fmt.Errorf("reading the aggregates of provider %s: %w", u, err)
				}
				aggs[u] = a
			}
			for _, agg := range a {
				keys[i] = append(keys[i], "aggregate:"+agg)
			}
		}
	}
	return keys, nil
}

// assignClaims gives each consumer of reqs a candidate, greedily in
// candidate order: for consumer i, the first candidate whose domains
// (keys) no earlier consumer took and on which consumers 0..i plan
// together. It sets reqs[i].Allocations and returns the candidate index of
// each consumer, a *noFitError, or the planner's error when the request
// itself is refused (a consumer generation conflict). It does no I/O.
func assignClaims(read *claimRead, reqs []ConsumerAllocations, cands []claimCandidate, keys [][]string) ([]int, error) {
	chosen := make([]int, len(reqs))
	taken := map[string]bool{}
	var last error
	for i := range reqs {
		found := false
		for j := range cands {
			if slices.ContainsFunc(keys[j], func(k string) bool { return taken[k] }) {
				continue
			}
			reqs[i].Allocations = cands[j].allocs
			prefix := *read
			prefix.consumers = read.consumers[:i+1]
			if _, err := planClaims(&prefix, reqs[:i+1], planOptions{}); err != nil {
				if e, ok := model.AsError(err); ok && e.Code == model.CodeConcurrentUpdate {
					return nil, err
				}
				last = err
				continue
			}
			chosen[i] = j
			for _, k := range keys[j] {
				taken[k] = true
			}
			found = true
			break
		}
		if !found {
			return nil, &noFitError{placed: i, tried: len(cands), last: last}
		}
	}
	return chosen, nil
}

// claimAnswer describes what a claim wrote.
func claimAnswer(req ClaimRequest, read *claimRead, cands []claimCandidate, chosen []int) ClaimAnswer {
	out := ClaimAnswer{Claims: make([]ClaimedConsumer, len(req.Consumers))}
	for i, c := range req.Consumers {
		cand := cands[chosen[i]]
		gen := read.consumers[i].consumer.Generation
		if read.consumers[i].existed {
			gen++
		}
		allocs := make(map[string]ClaimedResources, len(cand.allocs))
		for _, pr := range cand.allocs {
			res := make(map[string]int64, len(pr.Resources))
			for _, ca := range pr.Resources {
				res[ca.Class] = ca.Amount
			}
			allocs[pr.ProviderUUID] = ClaimedResources{Resources: res}
		}
		out.Claims[i] = ClaimedConsumer{
			ConsumerUUID: c.UUID, ConsumerGeneration: gen,
			ProjectID: c.ProjectID, UserID: c.UserID, ConsumerType: c.ConsumerType,
			Allocations: allocs, Mappings: cand.mappings, RootProviderUUIDs: cand.roots,
		}
	}
	return out
}
