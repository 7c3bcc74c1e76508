package app

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"go.uber.org/zap"

	"github.com/burnwatch/burnwatch/slo"
	"github.com/burnwatch/burnwatch/specs"
)

// App is the Burnwatch daemon: the teams' specs, the SLO engine and its
// evaluation loop, the alert path and persistence, and its own metrics.
// Producers (the slo connector, the fast receiver) hand it events; the flow
// processor classifies with its Flows.
//
// It is built in one straight line: New applies and checks the config,
// loads the specs, builds the engine and the notifiers; Start opens
// storage, builds the alert path writing ahead to it, and restores the
// state (in the background, holding batches meanwhile) and starts the
// loops; Shutdown undoes Start in reverse.
type App struct {
	cfg      Config
	logger   *zap.Logger
	client   ClientFactory
	clock    Clock
	self     *metrics.Set
	counters counters

	// core is the specs, engine and flows now; a spec reload swaps it
	// (reload.go). swapMu orders the swap against batches and
	// evaluations: Observe and evaluate hold it for reading, the swap for
	// writing, so no batch lands in an engine that was already copied.
	core   atomic.Pointer[core]
	swapMu sync.RWMutex
	reload reloadState

	// metricIngest reads metric SLIs (metrics_ingest.go).
	metricIngest metricIngest
	// scale is an agent's aggregation or a gateway's merging (agent.go,
	// gateway.go).
	scale scaleOut

	// persist is nil when storage is off; set before Start returns.
	persist *persistence
	alerts  *alertPath
	// hold keeps the batches that come in while the state is restored
	// (restoring.go).
	hold holding

	started             time.Time
	ready               atomic.Bool
	startOnce, stopOnce sync.Once
	cancel              context.CancelFunc
	done                chan struct{}

	// evals are storage for two evaluations: evaluate writes into the one
	// readers do not see (evals[1-shown]) and then shows it. lastMu guards
	// last, lastAt and shown; a reader holds it for reading while it uses
	// last, so evaluate never overwrites statuses being read.
	evals  [2]slo.Evaluation
	lastMu sync.RWMutex
	last   []slo.Status
	lastAt time.Time
	shown  int
	// lastCheckpoint is only touched by the evaluation goroutine.
	lastCheckpoint time.Time
	// budgetLog samples each SLO's budget over its period, for the page's
	// burn-down chart; it is in the checkpoint.
	budgetLog budgetHistory
}

// ErrNotDurable is returned by Observe under storage.acknowledge: durable
// while the state cannot be written: the sender should retry later.
var ErrNotDurable = errors.New("storage is not durable: batch refused (storage.acknowledge: durable)")

// Settings are what an App needs from its host besides its Config.
type Settings struct {
	// Logger is nil for none.
	Logger *zap.Logger
	// HTTPClient makes the receivers' HTTP clients; nil gives plain ones
	// that do not follow redirects (and refuses http client settings).
	HTTPClient ClientFactory
	// Clock is nil for the wall clock.
	Clock Clock
}

// New checks cfg, loads its spec files and builds the engine. It opens no
// file but the specs and starts nothing.
func New(cfg Config, set Settings) (*App, error) {
	if err := cfg.Check(); err != nil {
		return nil, err
	}
	logger := set.Logger
	if logger == nil {
		logger = zap.NewNop()
	}
	if set.HTTPClient == nil {
		set.HTTPClient = defaultClient
	}
	if set.Clock == nil {
		set.Clock = wallClock{}
	}
	groups := openGroups(cfg.Storage.Directory, logger)
	c, err := loadCore(cfg, groups)
	if err != nil {
		return nil, err
	}
	a := &App{cfg: cfg, logger: logger, client: set.HTTPClient, clock: set.Clock, self: metrics.NewSet()}
	a.reload.groups = groups
	a.core.Store(c)
	if cfg.Mode == ModeAgent {
		a.scale.agent = &agent{}
	}
	a.registerMetrics()
	return a, nil
}

// core is what the spec files make: the specs, the engine that counts
// their SLOs and the flows that classify spans.
type core struct {
	specs  *specs.Set
	engine *slo.Engine
	flows  *Flows
	// known holds the flow names the specs define, and the groups of
	// grouped flows: producers' events of any other flow are counted and
	// dropped, so a client cannot invent flows or page for one it does not
	// own.
	known map[string]struct{}
	// digest identifies the spec files' contents.
	digest [32]byte
}

// isKnown reports whether ev's flow is one the specs define, or a group of
// a grouped flow. An event the core's classifier named (Ref) needs no
// hashing of its name.
func (c *core) isKnown(ev *slo.Event) bool {
	if r := int(ev.Ref) - 1; r >= 0 && r < len(c.flows.names) && c.flows.names[r] == ev.Flow {
		return true
	}
	_, ok := c.known[ev.Flow]
	return ok
}

// loadCore reads cfg's spec files and builds their engine and flows.
func loadCore(cfg Config, groups *groupRegistry) (*core, error) {
	digest, err := specDigest(cfg.Files)
	if err != nil {
		return nil, fmt.Errorf("files: %w", err)
	}
	specSet, err := specs.Load(cfg.Files...)
	if err != nil {
		return nil, fmt.Errorf("files: %w", err)
	}
	return newCore(cfg, specSet, digest, groups)
}

// newCore builds the engine and flows of a spec set, with the SLOs of the
// grouped flows' groups.
func newCore(cfg Config, specSet *specs.Set, digest [32]byte, groups *groupRegistry) (*core, error) {
	groups.reconcile(slices.Concat(specSet.Flows, metricGroups(specSet)))
	sloSpecs, known := groups.expand(specSet)
	engine, err := slo.NewEngine(sloSpecs, slo.Options{
		AllowedLateness: cfg.AllowedLateness,
		MaxFlows:        cfg.MaxFlows,
		Deltas:          cfg.Storage.Directory != "",
	})
	if err != nil {
		return nil, err
	}
	fl, err := newFlows(specSet, groups)
	if err != nil {
		return nil, err
	}
	engine.IndexFlows(fl.names)
	return &core{specs: specSet, engine: engine, flows: fl, known: known, digest: digest}, nil
}

// Start opens storage, builds the alert path on it, and restores the state
// written before the last stop, then starts the evaluation loop and
// delivery. With storage the restore runs after Start returns, so the
// receivers listen meanwhile: their batches are held until it is done
// (restoring.go; WaitRestored waits for it). A storage directory that
// cannot be used is reported and retried, and the daemon goes on from
// memory meanwhile: losing history is better than not alerting. Start is
// safe to call more than once.
func (a *App) Start(context.Context) error {
	var err error
	a.startOnce.Do(func() { err = a.start() })
	return err
}

func (a *App) start() error {
	a.started = a.clock.Now()
	var log alertLog
	if a.cfg.Storage.Directory != "" {
		a.persist = newPersistence(a.cfg.Storage, a.self, a.logger)
		a.persist.dedup = &a.scale.dedup
		if err := a.persist.open(); err != nil {
			a.persist.fail("open storage", err)
			a.persist.notDurable("open storage: " + err.Error())
		}
		log = a.persist
	}
	alerts, err := newAlertPath(a.cfg.Alerting, a.cfg.EvaluationInterval, a.clock, a.client, a.self, a.logger, log)
	if err != nil {
		return err
	}
	a.alerts = alerts
	ctx, cancel := context.WithCancel(context.Background())
	a.cancel = cancel
	a.done = make(chan struct{})
	a.hold.restored = make(chan struct{})
	if a.persist != nil && a.persist.isOpen() {
		// Restored in the background: the receivers start listening
		// meanwhile, and their batches are held (restoring.go).
		a.beginHolding()
		go a.restoreAndRun(ctx, a.persist.nextLSN())
		return nil
	}
	a.begin(ctx)
	return nil
}

// begin starts the alert path's delivery, the evaluation loop and the spec
// watch once the state is restored.
func (a *App) begin(ctx context.Context) {
	a.alerts.start()
	a.lastCheckpoint = a.clock.Now()
	c := a.core.Load()
	a.logger.Info("burnwatch started", zap.Int("flows", len(c.specs.Flows)), zap.Int("slos", len(c.specs.SLOs)),
		zap.Duration("evaluation_interval", a.cfg.EvaluationInterval), zap.String("storage", a.storageState()))
	go a.run(ctx)
	a.startWatching()
	a.ready.Store(true)
	close(a.hold.restored)
}

// Shutdown stops the evaluation loop, gives delivery until ctx is done or
// alerting.delivery.shutdown_timeout (whichever comes first) to send what
// is due, writes a final checkpoint (with what is still pending, for the
// next start) and closes storage. It is safe to call twice, and without
// Start.
func (a *App) Shutdown(ctx context.Context) error {
	var err error
	a.stopOnce.Do(func() {
		a.ready.Store(false)
		a.startOnce.Do(func() {}) // a Start after Shutdown does nothing
		if a.cancel == nil {
			return
		}
		// A restore under way finishes first: what it holds is
		// acknowledged, and goes into the final checkpoint.
		<-a.hold.restored
		a.stopWatching()
		a.cancel()
		<-a.done
		dctx, cancel := context.WithTimeout(ctx, a.cfg.Alerting.Delivery.ShutdownTimeout)
		if cerr := a.alerts.close(dctx); cerr != nil {
			// What is left is in the checkpoint below and sent after the
			// next start, as documented: not a failed shutdown.
			a.logger.Warn("stopped with notifications still pending; they are sent after the next start", zap.Error(cerr))
		}
		cancel()
		if a.persist != nil {
			// After delivery stopped: what it could not send is in the
			// checkpoint and is sent after the restart.
			st := a.checkpointState()
			st.Metrics = a.metricState()
			_ = a.persist.checkpoint(a.Engine(), st, a.clock.Now())
			err = errors.Join(err, a.persist.close())
		}
	})
	return err
}

// Observe counts a batch of events from a producer. Events of flows the
// specs do not define are counted (burnwatch_events_unknown_flow_total)
// and dropped; Observe may reorder evs. With storage on, the batch's counts
// are written to the WAL before Observe returns, so a batch the sender saw
// accepted survives a kill -9. Under storage.acknowledge: durable it
// returns ErrNotDurable, counting nothing, while storage cannot be written.
func (a *App) Observe(evs []slo.Event) error {
	return a.observe(a.clock.Now(), evs)
}

func (a *App) observe(now time.Time, evs []slo.Event) error {
	a.syncGroups()
	if a.hold.active.Load() {
		if held, err := a.holdBatch(now, evs); held {
			return err
		}
	}
	a.swapMu.RLock()
	defer a.swapMu.RUnlock()
	c := a.core.Load()
	p := a.persist
	if p != nil && a.cfg.Storage.Acknowledge == AckDurable && !p.durable.Load() {
		a.counters.refused.Add(uint64(len(evs)))
		return ErrNotDurable
	}
	kept := evs[:0]
	adopted := false
	for _, ev := range evs {
		if !c.isKnown(&ev) {
			// A group an agent made of a flow grouped here too.
			name, ok := a.reload.groups.adopt(ev.Flow)
			if !ok {
				continue
			}
			ev.Flow, adopted = name, true
		}
		kept = append(kept, ev)
	}
	if adopted {
		a.swapMu.RUnlock()
		a.syncGroups()
		a.swapMu.RLock()
		c = a.core.Load()
		kept = slices.DeleteFunc(kept, func(ev slo.Event) bool { return !c.isKnown(&ev) })
	}
	if n := len(evs) - len(kept); n > 0 {
		a.counters.unknownFlow.Add(uint64(n))
	}
	if len(kept) == 0 || a.observeAgent(c, now, kept) {
		return nil
	}
	c.engine.Observe(now, kept)
	if p != nil {
		p.appendDelta(c.engine)
	}
	return nil
}

// Reload is what SIGHUP asks of a running App: reopen the alert history
// file (logrotate's postrotate sends it after moving the file away) and
// reload the spec files (reload.go). It never stops ingestion or waits on a
// receiver; a broken spec set is reported and the running one goes on.
func (a *App) Reload() error {
	var err error
	if a.persist != nil {
		err = a.persist.reopenHistory()
	}
	return errors.Join(err, a.ReloadSpecs())
}

// Flows is the compiled flow set that producers classify spans with now;
// a spec reload replaces it, so a producer asks for it per batch.
func (a *App) Flows() *Flows { return a.core.Load().flows }

// Engine is the SLO engine now, for tests and tools that read it directly.
func (a *App) Engine() *slo.Engine { return a.core.Load().engine }

// ReadStatuses calls fn with the newest evaluation, and when it was made;
// statuses is empty before the first. fn must not keep statuses nor call
// back into the App: the evaluation loop waits for it to return.
func (a *App) ReadStatuses(fn func(at time.Time, statuses []slo.Status)) {
	a.lastMu.RLock()
	defer a.lastMu.RUnlock()
	fn(a.lastAt, a.last)
}

// checkpointState is what a checkpoint keeps beside the engine: the alert
// path's state with the outbox, and the budget history.
func (a *App) checkpointState() alertState {
	st := a.alerts.state(true)
	st.Budgets = a.budgets().Snapshot()
	return st
}
