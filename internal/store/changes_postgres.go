package store

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"allot/internal/model"
)

// changedSince is the providers written after revision $1 up to the
// latest: in a REPEATABLE READ snapshot every statement of the catch-up
// sees the same meta row, and so the same set.
const changedSince = `SELECT provider_id FROM changes WHERE revision > $1 AND revision <= (SELECT revision FROM meta WHERE id = 1)`

// changesPipelined is ChangesSince on PostgreSQL in one round trip: the
// statements that ChangesSince runs one after another (the revision, the
// changed ids, their providers, inventories, traits, aggregates, and the
// catalogs when they changed) go to the server together in one pgx
// pipeline, inside one read-only REPEATABLE READ transaction that the
// pipeline begins and commits, each naming the changed providers by a
// subquery on the change feed instead of a list of ids it would first
// have to read. A replica that finds another's writes before a query
// waits for one round trip instead of eight. ch.Full reports a since
// older than the change feed keeps: the caller then reads everything.
func (s *Store) changesPipelined(ctx context.Context, since int64) (ch Changes, err error) {
	start := time.Now()
	defer func() {
		// Counted as the read transaction it is, as Read counts its own.
		s.m.Tx("read", time.Since(start), err)
		err = s.classify(err)
		s.countError(err)
	}()
	conn, err := s.reader.Conn(ctx)
	if err != nil {
		return ch, err
	}
	defer conn.Close()
	err = conn.Raw(func(dc any) error {
		sc, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("the PostgreSQL driver's connection is a %T, not pgx's", dc)
		}
		pc := sc.Conn()
		ch, err = readChangesBatch(ctx, pc, since)
		if pc.PgConn().TxStatus() != 'I' {
			// A failure left the transaction open or aborted: the pool
			// must not hand this connection out again.
			return errors.Join(err, driver.ErrBadConn)
		}
		return err
	})
	return ch, err
}

// readChangesBatch sends the catch-up's statements as one batch and reads
// their results in order.
func readChangesBatch(ctx context.Context, pc *pgx.Conn, since int64) (ch Changes, err error) {
	// = ANY(ARRAY(...)) evaluates the change feed's few ids once and
	// looks each up in the tables' indexes; IN (subquery) lets the planner
	// hash-join them against a sequential scan of the whole table, which
	// grows with the cloud (5 ms at 10,000 providers).
	where := func(col string) string { return ` WHERE ` + col + ` = ANY (ARRAY(` + changedSince + `))` }
	global := `EXISTS (` + changedSince + ` AND provider_id = ` + fmt.Sprint(GlobalChange) + `)`

	b := &pgx.Batch{}
	b.Queue(`BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY`)
	b.Queue(`SELECT revision, oldest_change FROM meta WHERE id = 1`)
	b.Queue(`SELECT DISTINCT provider_id FROM (`+changedSince+`) c ORDER BY provider_id`, since)
	b.Queue(`SELECT `+providerColumns+providerFrom+where("p.id")+` ORDER BY p.id`, since)
	for _, read := range stateReads {
		b.Queue(read.query(where), since)
	}
	b.Queue(catalogQuery("resource_classes", "id", global), since)
	b.Queue(catalogQuery("traits", "name", global), since)
	b.Queue(`COMMIT`)

	br := pc.SendBatch(ctx, b)
	defer func() {
		if cerr := br.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("the catch-up's batch: %w", cerr)
		}
	}()
	if _, err := br.Exec(); err != nil {
		return ch, fmt.Errorf("begin the catch-up: %w", err)
	}
	var oldest int64
	if err := br.QueryRow().Scan(&ch.Revision, &oldest); err != nil {
		return ch, fmt.Errorf("read the revision: %w", err)
	}
	if since < oldest {
		// The batch's other results are read (and dropped) by Close.
		ch.Full = true
		return ch, nil
	}
	var ids []int64
	if err := batchRows(br, "the changed providers", func(rows pgx.Rows) error {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return err
		}
		if id == GlobalChange {
			ch.Global = true
		} else {
			ids = append(ids, id)
		}
		return nil
	}); err != nil {
		return ch, err
	}
	if err := batchRows(br, "the changed providers' rows", func(rows pgx.Rows) error {
		p, err := scanProvider(rows)
		if err == nil {
			ch.States = append(ch.States, model.ProviderState{Provider: p})
		}
		return err
	}); err != nil {
		return ch, err
	}
	ch.Removed = missingFrom(ids, ch.States)
	stateOf := statesByID(ch.States)
	for _, read := range stateReads {
		if err := batchRows(br, "the changed providers' state", func(rows pgx.Rows) error {
			return read.add(rows, stateOf)
		}); err != nil {
			return ch, err
		}
	}
	var classes, traits []string
	for _, names := range []*[]string{&classes, &traits} {
		if err := batchRows(br, "the catalogs", func(rows pgx.Rows) error {
			var n string
			err := rows.Scan(&n)
			*names = append(*names, n)
			return err
		}); err != nil {
			return ch, err
		}
	}
	if ch.Global {
		ch.Classes, ch.Traits = nonNil(classes), nonNil(traits)
	}
	if _, err := br.Exec(); err != nil {
		return ch, fmt.Errorf("end the catch-up: %w", err)
	}
	return ch, nil
}

// batchRows reads the next result of a batch row by row.
func batchRows(br pgx.BatchResults, what string, row func(pgx.Rows) error) error {
	rows, err := br.Query()
	if err != nil {
		return fmt.Errorf("read %s: %w", what, err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := row(rows); err != nil {
			return fmt.Errorf("read %s: %w", what, err)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read %s: %w", what, err)
	}
	return nil
}

func nonNil(ss []string) []string {
	if ss == nil {
		return []string{}
	}
	return ss
}
