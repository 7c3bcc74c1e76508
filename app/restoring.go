package app

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"go.uber.org/zap"

	"github.com/burnwatch/burnwatch/slo"
	"github.com/burnwatch/burnwatch/storage/wal"
)

// Restoring without a gap. Restoring 10,000 flows and replaying their WAL
// takes a second or more; the receivers listen meanwhile. A batch that
// comes in while the engine is being restored is held: written to the WAL
// as it came (recHeld, its events and the time it was observed) before it is
// acknowledged, and kept in memory. When the engine holds the restored state
// the held batches are observed in the order they came, at the times they
// came, as if they had come just then. Then the engine's delta, which holds
// exactly those batches (and held batches a replay found in the WAL), is cut
// and dropped, and recHeldApplied marks the place in the WAL: their events
// are in the WAL already. A replay does the same at the same places
// (persistence.restore), so a kill -9 at any time loses nothing acknowledged
// and counts nothing twice.
//
// Other producers (metric SLIs, aggregates) and spec reloads wait for the
// restore: it holds swapMu for writing.
const (
	recHeld        wal.RecordType = 5
	recHeldApplied wal.RecordType = 6
)

// maxHeldEvents bounds the events held during a restore (about 100 bytes
// each in memory); past it batches are refused with ErrRestoring and counted
// in burnwatch_restore_refused_events_total, and senders retry.
const maxHeldEvents = 1 << 20

// ErrRestoring is returned by Observe when the state is still being
// restored and maxHeldEvents events are held already: retry shortly.
var ErrRestoring = errors.New("state is being restored and the hold for batches meanwhile is full: retry shortly")

// holding keeps the batches that come in during a restore.
type holding struct {
	// active is set from Start until the held batches are applied;
	// Observe reads it without the lock.
	active atomic.Bool
	// restored is closed when the restore is done and the App runs (or
	// there was nothing to restore).
	restored chan struct{}

	// mu guards what follows and orders holding against applying: a
	// batch is either held before the release, or observed after it.
	mu      sync.Mutex
	batches []heldBatch
	events  int
	// names are the flow names held, each once: events must not keep a
	// request's buffer alive.
	names map[string]string
	buf   []byte

	held, refused *metrics.Counter
	// gate, when a test sets it before Start, keeps the restore from
	// beginning until it is closed, so that batches are held for sure.
	gate chan struct{}
}

type heldBatch struct {
	now time.Time
	evs []slo.Event
}

// WaitRestored waits until the state written before the last stop is
// restored and the App runs (at once without storage), or ctx is done.
func (a *App) WaitRestored(ctx context.Context) error {
	if a.hold.restored == nil {
		return errors.New("not started")
	}
	select {
	case <-a.hold.restored:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// beginHolding makes Observe hold batches from now until the restore
// releases them, and keeps reloads and the other producers waiting. It runs
// in Start, before the receivers start.
func (a *App) beginHolding() {
	h := &a.hold
	h.held = a.self.GetOrCreateCounter("burnwatch_restore_held_events_total")
	h.refused = a.self.GetOrCreateCounter("burnwatch_restore_refused_events_total")
	h.names = map[string]string{}
	a.swapMu.Lock()
	h.active.Store(true)
}

// holdBatch holds a batch observed at now while the state is restored. It
// reports false when the restore has just finished: the caller observes
// the batch as usual.
func (a *App) holdBatch(now time.Time, evs []slo.Event) (bool, error) {
	h := &a.hold
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.active.Load() {
		return false, nil
	}
	// The core cannot change while restoring (swapMu is held).
	c := a.core.Load()
	kept := make([]slo.Event, 0, len(evs))
	for _, ev := range evs {
		if !c.isKnown(&ev) {
			if _, _, ok := a.reload.groups.parse(ev.Flow); ok {
				// A group an agent made, new here: the batch waits for
				// the restore and adopts it then (observe).
				return false, nil
			}
			continue
		}
		name, ok := h.names[ev.Flow]
		if !ok {
			name = strings.Clone(ev.Flow)
			h.names[name] = name
		}
		ev.Flow = name
		kept = append(kept, ev)
	}
	if n := len(evs) - len(kept); n > 0 {
		a.counters.unknownFlow.Add(uint64(n))
	}
	if len(kept) == 0 {
		return true, nil
	}
	if h.events+len(kept) > maxHeldEvents {
		h.refused.Add(len(kept))
		return true, ErrRestoring
	}
	h.buf = appendHeld(h.buf[:0], now, kept)
	if err := a.persist.appendHeld(h.buf); err != nil && a.cfg.Storage.Acknowledge == AckDurable {
		a.counters.refused.Add(uint64(len(kept)))
		return true, ErrNotDurable
	}
	h.batches = append(h.batches, heldBatch{now: now, evs: kept})
	h.events += len(kept)
	h.held.Add(len(kept))
	return true, nil
}

// restoreAndRun restores the state into the engine (replaying the WAL up
// to until, where held batches begin), applies the held batches, lets the
// held-up producers and reloads go, and starts the App's loops.
func (a *App) restoreAndRun(ctx context.Context, until wal.LSN) {
	if a.hold.gate != nil {
		<-a.hold.gate
	}
	began := time.Now()
	engine := a.Engine()
	if st := a.persist.restore(engine, until); st != nil {
		a.alerts.restore(*st)
		a.budgets().Restore(st.Budgets)
		a.restoreMetricState(st.Metrics)
	}
	restored := time.Since(began)
	h := &a.hold
	h.mu.Lock()
	batches, events := len(h.batches), h.events
	for _, b := range h.batches {
		engine.Observe(b.now, b.evs)
	}
	a.persist.markHeldApplied(engine)
	h.batches, h.names, h.events = nil, nil, 0
	h.active.Store(false)
	h.mu.Unlock()
	a.swapMu.Unlock()
	a.logger.Info("state restored", zap.Duration("took", time.Since(began)), zap.Duration("restore", restored),
		zap.Int("held_batches", batches), zap.Int("held_events", events))
	a.begin(ctx)
}

// appendHeld writes a held batch to the WAL. Its error says the batch is
// only in memory.
func (p *persistence) appendHeld(data []byte) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.wal == nil {
		return errors.New("storage is closed")
	}
	if _, err := p.wal.Append(recHeld, data); err != nil {
		p.fail("append held batch", err)
		p.setNotDurableLocked("write-ahead log append failed: " + err.Error())
		return err
	}
	p.walBytes.Add(int64(len(data)))
	return nil
}

// markHeldApplied cuts the engine's delta, which holds the held batches
// just observed, drops it (their events are in the WAL) and marks the place
// for a replay to do the same.
func (p *persistence) markHeldApplied(engine *slo.Engine) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.buf = engine.AppendDelta(p.buf[:0])
	if p.wal == nil {
		return
	}
	if _, err := p.wal.Append(recHeldApplied, nil); err != nil {
		// A replay would see the next delta's sequence number skip one:
		// only a checkpoint makes the log whole again.
		p.fail("append held batches applied", err)
		p.setNotDurableLocked("write-ahead log append failed: " + err.Error())
	}
}

// heldVersion starts a recHeld record.
const heldVersion = 1

// appendHeld encodes a held batch: the time it was observed and its
// events, flow names given once and then referred to by number.
func appendHeld(b []byte, now time.Time, evs []slo.Event) []byte {
	b = append(b, heldVersion)
	b = binary.AppendVarint(b, now.UnixNano())
	b = binary.AppendUvarint(b, uint64(len(evs)))
	names := map[string]uint64{}
	for i := range evs {
		ev := &evs[i]
		if n, ok := names[ev.Flow]; ok {
			b = binary.AppendUvarint(b, n+1)
		} else {
			names[ev.Flow] = uint64(len(names))
			b = binary.AppendUvarint(b, 0)
			b = binary.AppendUvarint(b, uint64(len(ev.Flow)))
			b = append(b, ev.Flow...)
		}
		b = binary.AppendVarint(b, ev.End)
		b = binary.AppendVarint(b, int64(ev.Duration))
		flag := byte(0)
		if ev.Error {
			flag = 1
		}
		b = append(b, flag)
		b = append(b, ev.TraceID[:]...)
		b = append(b, ev.SpanID[:]...)
	}
	return b
}

// decodeHeld decodes a recHeld record.
func decodeHeld(b []byte) (time.Time, []slo.Event, error) {
	fail := func(what string) (time.Time, []slo.Event, error) {
		return time.Time{}, nil, fmt.Errorf("held batch: %s", what)
	}
	if len(b) == 0 || b[0] != heldVersion {
		return fail("unknown version")
	}
	b = b[1:]
	varint := func() (int64, bool) {
		v, n := binary.Varint(b)
		if n <= 0 {
			return 0, false
		}
		b = b[n:]
		return v, true
	}
	uvarint := func() (uint64, bool) {
		v, n := binary.Uvarint(b)
		if n <= 0 {
			return 0, false
		}
		b = b[n:]
		return v, true
	}
	now, ok := varint()
	count, ok2 := uvarint()
	if !ok || !ok2 || count > uint64(len(b)) {
		return fail("truncated header")
	}
	var names []string
	evs := make([]slo.Event, count)
	for i := range evs {
		ev := &evs[i]
		ref, ok := uvarint()
		switch {
		case !ok:
			return fail("truncated event")
		case ref == 0:
			n, ok := uvarint()
			if !ok || n > uint64(len(b)) {
				return fail("truncated flow name")
			}
			names = append(names, string(b[:n]))
			b = b[n:]
			ev.Flow = names[len(names)-1]
		case ref > uint64(len(names)):
			return fail("unknown flow reference")
		default:
			ev.Flow = names[ref-1]
		}
		end, ok1 := varint()
		d, ok2 := varint()
		if !ok1 || !ok2 || len(b) < 1+16+8 {
			return fail("truncated event")
		}
		ev.End, ev.Duration, ev.Error = end, time.Duration(d), b[0] == 1
		copy(ev.TraceID[:], b[1:17])
		copy(ev.SpanID[:], b[17:25])
		b = b[25:]
	}
	if len(b) != 0 {
		return fail("trailing bytes")
	}
	return time.Unix(0, now), evs, nil
}
