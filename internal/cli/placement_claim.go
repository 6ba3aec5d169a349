package cli

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/google/uuid"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"allot/internal/client"
)

// claimOnlyListFlags are options of "allocation-candidate list" that a
// claim does not take (they shape a listing, not a claim; the claim has a
// --strategy of its own). --prefer-trait and --prefer-member-of it takes.
var claimOnlyListFlags = map[string]bool{"explain": true, "strategy": true}

// newClaimCommand builds "allot placement claim": allot's atomic claim
// (POST /allot/v1/claims), with every query option of "allocation-candidate
// list".
func newClaimCommand(o *clientOptions) *cobra.Command {
	list, f := candidateListCommand(o)
	var projectID, userID, consumerType, strategy, distinct, key string
	var generation int64
	cmd := &cobra.Command{
		Use:   "claim CONSUMER_UUID [CONSUMER_UUID...]",
		Short: "Choose allocation candidates and claim them in one call (allot extension)",
		Long: `Choose an allocation candidate for each consumer and write its allocations,
in one call and one store transaction (POST /allot/v1/claims, an allot
extension that other Placement servers do not have). The server skips
candidates that filled up meanwhile and searches once more before giving
up, so a conflict means that nothing fits any more.

Several consumers make a gang claim: all of them get allocations, or none.
--distinct spreads them: root (no two in the same provider tree), aggregate
(no two in trees sharing an aggregate) or trait_prefix:PREFIX (no two in
trees whose roots have the same trait of that prefix, e.g.
trait_prefix:CUSTOM_RACK_ for racks).

--strategy orders the candidates: default (Placement's order), pack (the
fullest trees first), spread (the emptiest first) or random.
--prefer-trait TRAIT[:W] and --prefer-member-of AGG[:W] (repeatable, as for
"allocation-candidate list") rank the trees having a trait, or in an
aggregate, first by the weight W (1 by default; negative: last), without
excluding the others.
--idempotency-key makes the claim safe to resend: the same key with the
same request answers the first claim again (for a day) without claiming
twice.

The consumers are new (a consumer that exists needs
--consumer-generation, and its allocations are replaced). The query options
are those of "allocation-candidate list" (see its --help): --resources,
--required, --forbidden, --member-of, --in-tree, granular groups
(--resources-group, --group ...), --root-required, --same-subtree,
--group-policy and --limit (without it the server considers a few dozen
candidates).

The table shows, per consumer, the providers and amounts claimed; -f json
prints the API's answer.`,
		Example: `  # one VM's worth on the fullest host that has room:
  allot placement claim 0d5a5a9c-6c1e-4c55-9b39-1f5b2f3d8e11 --project-id p --user-id u \
    --resources VCPU:4,MEMORY_MB:8192 --strategy pack

  # the fullest host, preferring those with fast disks, avoiding aggregate A:
  allot placement claim 0d5a5a9c-6c1e-4c55-9b39-1f5b2f3d8e11 --project-id p --user-id u \
    --resources VCPU:4 --strategy pack --prefer-trait CUSTOM_SSD:2 \
    --prefer-member-of 7d4f3c1e-1a5c-4f0e-9d55-5f1d1e4f2a10:-1

  # 8 GPU hosts or none, each in a different rack:
  allot placement claim $(for i in $(seq 8); do uuidgen; done) --project-id p --user-id u \
    --resources VGPU:1 --required CUSTOM_GPU_A100 --distinct trait_prefix:CUSTOM_RACK_`,
		Args: argsAtLeast("CONSUMER_UUID"),
	}
	cmd.RunE = func(c *cobra.Command, args []string) error {
		policySet := c.Flags().Changed("group-policy")
		genSet := c.Flags().Changed("consumer-generation")
		return o.runPlacement(func(ctx context.Context, p *client.Placement, args []string) (*view, error) {
			req := client.ClaimRequest{Strategy: strategy, Distinct: distinct, IdempotencyKey: key}
			if projectID == "" || userID == "" {
				return nil, errUsage("give the consumers' owner: --project-id PROJECT --user-id USER")
			}
			if genSet && len(args) > 1 {
				return nil, errUsage("--consumer-generation applies to one consumer: claim an existing consumer alone")
			}
			for _, a := range args {
				id, err := uuid.Parse(a)
				if err != nil {
					return nil, errUsage("consumer %q is not a UUID", a)
				}
				cc := client.ClaimConsumer{UUID: id.String(), ProjectID: projectID, UserID: userID, ConsumerType: consumerType}
				if genSet {
					g := generation
					cc.ConsumerGeneration = &g
				}
				req.Consumers = append(req.Consumers, cc)
			}
			q, err := f.query(ctx, p, policySet)
			if err != nil {
				return nil, err
			}
			if q.Ranking != nil {
				req.PreferTraits, req.PreferMemberOf = q.Ranking.PreferTraits, q.Ranking.PreferMemberOf
				q.Ranking = nil
			}
			req.Query = q
			return claim(ctx, p, req, o.out)
		})(c, args)
	}
	fl := cmd.Flags()
	fl.StringVar(&projectID, "project-id", "", "`PROJECT` owning the consumers (required)")
	fl.StringVar(&userID, "user-id", "", "`USER` owning the consumers (required)")
	fl.StringVar(&consumerType, "consumer-type", "", "consumer `TYPE` (e.g. INSTANCE)")
	fl.Int64Var(&generation, "consumer-generation", 0, "`GENERATION` of an existing consumer (one consumer only; default: the consumer must be new)")
	fl.StringVar(&strategy, "strategy", "", "candidate order: `default`, pack, spread or random (default: the server's)")
	fl.StringVar(&distinct, "distinct", "", "a gang's spread rule: `root`, aggregate or trait_prefix:PREFIX")
	fl.StringVar(&key, "idempotency-key", "", "`KEY` that makes the claim safe to resend")
	list.Flags().VisitAll(func(fl *pflag.Flag) {
		if !claimOnlyListFlags[fl.Name] {
			cmd.Flags().AddFlag(fl)
		}
	})
	return cmd
}

// claim sends the claim and builds its view: one row per consumer and
// provider, with provider names; the API's answer for json and yaml.
func claim(ctx context.Context, p *client.Placement, req client.ClaimRequest, out outputOptions) (*view, error) {
	res, err := p.Claim(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("claim: %w", err)
	}
	raw, err := decodeDocument(res.Raw)
	if err != nil {
		return nil, err
	}
	names, err := tableProviderNames(ctx, p, out)
	if err != nil {
		return nil, err
	}
	g := grid{columns: []string{"consumer", "provider", "resources", "consumer_generation"}}
	for _, c := range res.Claims {
		rps := make([]string, 0, len(c.Allocations))
		for rp := range c.Allocations {
			rps = append(rps, rp)
		}
		sort.Slice(rps, func(a, b int) bool { return lessByName(names, rps[a], rps[b]) })
		for _, rp := range rps {
			var parts []string
			for _, class := range sortedKeys(c.Allocations[rp].Resources) {
				parts = append(parts, class+"="+strconv.FormatInt(c.Allocations[rp].Resources[class], 10))
			}
			g.rows = append(g.rows, []any{c.ConsumerUUID, nameOf(names, rp), strings.Join(parts, ", "), c.ConsumerGeneration})
		}
	}
	return &view{tables: []grid{g}, raw: raw}, nil
}
