package app

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/burnwatch/burnwatch/alerting/silence"
	"github.com/burnwatch/burnwatch/slo"
	"github.com/burnwatch/burnwatch/storage/checkpoint"
	"github.com/burnwatch/burnwatch/storage/wal"
)

// restore loads the newest checkpoint and replays the WAL after it, up to
// until (records from there on are batches held while restoring, which
// the caller applies), into engine, and returns the alert state to resume,
// if any was written. What it cannot read is counted and logged, and the
// rest is restored. Storage is durable afterwards: everything restored is
// on disk.
//
// The WAL is read and its deltas decoded on a goroutine of their own
// (readAhead), beside the checkpoint's restore: decoding is most of a
// replay, and a restart under load otherwise waits for it after the
// checkpoint. Deltas are applied in bulk (slo.DeltaBatch), up to the next
// record of another kind. Batches held during an earlier restore (recHeld)
// are observed again at the times they came, and at recHeldApplied the
// delta that held them is cut and dropped, as it was then.
//
// It runs without p.mu, so that batches held meanwhile are appended: the
// handles stay open, as only Shutdown and upkeep close them and both wait
// for the restore.
func (p *persistence) restore(engine *slo.Engine, until wal.LSN) *alertState {
	p.mu.Lock()
	w, store := p.wal, p.store
	p.mu.Unlock()
	if w == nil {
		return nil
	}
	defer func() {
		p.mu.Lock()
		p.setDurableLocked()
		p.mu.Unlock()
	}()
	cp, report, err := store.Load()
	if len(report.Skipped) > 0 {
		p.skipped.Add(len(report.Skipped))
		p.logger.Warn("damaged checkpoints skipped", zap.Any("skipped", report.Skipped))
	}
	from := wal.LSN(0)
	if err == nil {
		from = wal.LSN(cp.LSN) + 1
	}
	recs, stop, done := readAhead(w, from, until)
	defer stop()
	r := replay{engine: engine, batch: engine.NewDeltaBatch(), dedup: p.dedup}
	switch {
	case errors.Is(err, checkpoint.ErrNoCheckpoint):
	case err != nil:
		p.fail("load checkpoint", err)
	default:
		s, err := p.applyCheckpoint(cp.Body, engine)
		if err != nil {
			p.fail("restore checkpoint", err)
		}
		if s != nil {
			r.state = s
			for _, n := range s.Pending {
				r.outbox.put(n)
			}
			if s.Silences != nil {
				r.silences = &s.Silences
			}
		}
	}
	var applyErr error
	replayed := 0
	for rec := range recs {
		p.restored.Inc()
		replayed++
		if applyErr = r.apply(rec); applyErr != nil {
			stop()
			break
		}
	}
	r.batch.Flush()
	err = done()
	if applyErr != nil {
		err = applyErr
	}
	if err != nil && !errors.Is(err, errReplayed) {
		// Everything before the damage is applied; say what was lost.
		p.fail("replay wal", err)
	}
	if replayed > 0 && r.state != nil {
		// The metric runtime's state of a clean stop holds for the engine
		// as that stop left it, not with anything written since.
		r.state.Metrics = nil
	}
	if r.state == nil && len(r.outbox.order) == 0 && r.silences == nil {
		return nil
	}
	if r.state == nil {
		r.state = &alertState{}
	}
	r.state.Pending = r.outbox.list()
	if r.silences != nil {
		r.state.Silences = *r.silences
	}
	return r.state
}

// replayed is a WAL record read ahead of the restore: a delta decoded (or
// the error decoding it gave), any other record's data copied.
type replayed struct {
	lsn   wal.LSN
	typ   wal.RecordType
	data  []byte
	delta *slo.DecodedDelta
	err   error
}

// readAhead replays the WAL from from up to until on a goroutine of its
// own, decoding the deltas, and sends the records in order. The channel
// closes after the last record; done waits for that and returns the
// replay's error (errReplayed when it reached until); stop ends the replay
// early and may be called more than once.
func readAhead(w *wal.WAL, from, until wal.LSN) (recs <-chan replayed, stop func(), done func() error) {
	ch := make(chan replayed, 16)
	quit, finished := make(chan struct{}), make(chan struct{})
	var err error
	go func() {
		defer close(finished)
		defer close(ch)
		err = w.Replay(from, func(r wal.Record) error {
			if r.LSN >= until {
				return errReplayed
			}
			rec := replayed{lsn: r.LSN, typ: r.Type}
			switch r.Type {
			case recDelta:
				rec.delta, rec.err = slo.DecodeDelta(r.Data)
			case recMerged:
				var delta, marks []byte
				if delta, marks, rec.err = splitMerged(r.Data); rec.err == nil && len(delta) > 0 {
					rec.delta, rec.err = slo.DecodeDelta(delta)
				}
				rec.data = slices.Clone(marks)
			default:
				rec.data = slices.Clone(r.Data)
			}
			select {
			case ch <- rec:
				return nil
			case <-quit:
				return errReplayed
			}
		})
	}()
	var once sync.Once
	stop = func() { once.Do(func() { close(quit) }) }
	done = func() error { <-finished; return err }
	return ch, stop, done
}

// merged applies a gateway's merge: its delta, like any other, and its
// marks, so that the export is dropped if it is sent again.
func (r *replay) merged(rec replayed) error {
	if rec.err == nil && rec.delta != nil {
		rec.err = r.batch.AddDecoded(rec.delta)
	}
	var at time.Time
	var marks []mergeMark
	if rec.err == nil {
		at, marks, rec.err = decodeMarks(rec.data)
	}
	if rec.err != nil {
		return fmt.Errorf("record %d: %w", rec.lsn, rec.err)
	}
	if r.dedup != nil {
		for _, m := range marks {
			r.dedup.mark(dedupKey{m.agent, m.flow}, m.seq, at)
		}
	}
	return nil
}

// replay is what a restore gathers from the records it applies.
type replay struct {
	engine   *slo.Engine
	dedup    *dedup // nil in tests without one
	batch    *slo.DeltaBatch
	scratch  []byte
	state    *alertState
	outbox   pendingSet
	silences *[]silence.Silence
}

// apply applies one record; an error stops the replay there.
func (r *replay) apply(rec replayed) error {
	if rec.typ == recDelta {
		if rec.err == nil {
			rec.err = r.batch.AddDecoded(rec.delta)
		}
		if rec.err != nil {
			return fmt.Errorf("record %d: %w", rec.lsn, rec.err)
		}
		return nil
	}
	if rec.typ == recMerged {
		return r.merged(rec)
	}
	r.batch.Flush()
	switch rec.typ {
	case recHeld:
		now, evs, err := decodeHeld(rec.data)
		if err != nil {
			return fmt.Errorf("record %d: %w", rec.lsn, err)
		}
		r.engine.Observe(now, evs)
	case recHeldApplied:
		r.scratch = r.engine.AppendDelta(r.scratch[:0])
	case recAlerts:
		var s alertState
		if err := json.Unmarshal(rec.data, &s); err != nil {
			return fmt.Errorf("record %d: %w", rec.lsn, err)
		}
		r.state = &s
	case recSilences:
		var ss []silence.Silence
		if err := json.Unmarshal(rec.data, &ss); err != nil {
			return fmt.Errorf("record %d: %w", rec.lsn, err)
		}
		r.silences = &ss
	case recOutbox:
		var o outboxRecord
		if err := json.Unmarshal(rec.data, &o); err != nil {
			return fmt.Errorf("record %d: %w", rec.lsn, err)
		}
		r.outbox.apply(o)
	}
	return nil
}
