package sloconnector

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.uber.org/zap"

	"github.com/burnwatch/burnwatch/app"
	"github.com/burnwatch/burnwatch/slo"
)

// agentExport sends an agent's aggregates down the metrics pipeline every
// agent.interval (to the load-balancing exporter, which shards them over
// gateways by flow). A cut the pipeline refuses is kept, with its sequence
// number, and sent again before newer ones, up to agent.max_pending cuts;
// gateways merge a cut they already have once.
type agentExport struct {
	app    *app.App
	cfg    app.AgentConfig
	next   consumer.Metrics
	logger *zap.Logger
	// id names this agent to gateways; drawn at start, so a restarted
	// agent's sequence numbers start afresh under a new id.
	id  string
	seq uint64
	// pending are the cuts not yet accepted, oldest first; only the export
	// goroutine touches it.
	pending []pendingCut

	exported, failed, dropped *metrics.Counter
	cancel                    context.CancelFunc
	done                      chan struct{}
}

type pendingCut struct {
	seq  uint64
	at   time.Time
	aggs []slo.Aggregate
}

func startAgentExport(a *app.App, cfg app.AgentConfig, next consumer.Metrics, logger *zap.Logger) *agentExport {
	var b [8]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand)
	x := &agentExport{app: a, cfg: cfg, next: next, logger: logger, id: hex.EncodeToString(b[:]),
		exported: a.Counter("burnwatch_agent_exports_total"),
		failed:   a.Counter("burnwatch_agent_export_errors_total"),
		dropped:  a.Counter("burnwatch_agent_exports_dropped_total"),
		done:     make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	x.cancel = cancel
	go x.run(ctx)
	logger.Info("burnwatch agent: exporting aggregates", zap.String("agent_id", x.id),
		zap.Stringer("interval", cfg.Interval), zap.Stringer("slot_width", a.AggregateWidth()))
	return x
}

func (x *agentExport) run(ctx context.Context) {
	defer close(x.done)
	tick := time.NewTicker(x.cfg.Interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			x.flush(ctx)
		}
	}
}

// stop ends the loop and sends what was counted since the last cut, and
// what is pending, while ctx allows: the metrics pipeline downstream is
// still running when a connector shuts down.
func (x *agentExport) stop(ctx context.Context) {
	x.cancel()
	<-x.done
	x.flush(ctx)
	if n := len(x.pending); n > 0 {
		x.dropped.Add(n)
		x.logger.Warn("burnwatch agent: stopped with cuts not accepted downstream; their counts are lost", zap.Int("cuts", n))
	}
}

// flush cuts the aggregates and sends every pending cut, oldest first,
// until the pipeline refuses one; of those it keeps for the next flush,
// the oldest past agent.max_pending are dropped.
func (x *agentExport) flush(ctx context.Context) {
	if aggs := x.app.CutAggregates(); len(aggs) > 0 {
		x.seq++
		x.pending = append(x.pending, pendingCut{seq: x.seq, at: time.Now(), aggs: aggs})
	}
	x.send(ctx)
	if over := len(x.pending) - max(x.cfg.MaxPending, 1); over > 0 {
		x.dropped.Add(over)
		clear(x.pending[:over])
		x.pending = append(x.pending[:0], x.pending[over:]...)
	}
}

// send sends the pending cuts, oldest first, until the pipeline refuses
// one.
func (x *agentExport) send(ctx context.Context) {
	for len(x.pending) > 0 {
		p := x.pending[0]
		// Encoded afresh each time: the pipeline may keep what it was
		// given.
		md := pmetric.NewMetrics()
		encodeAggregates(md, x.id, p.seq, p.at, p.aggs)
		err := x.next.ConsumeMetrics(ctx, md)
		if err != nil && !consumererror.IsPermanent(err) {
			if !errors.Is(err, context.Canceled) {
				x.failed.Inc()
			}
			return
		}
		if err != nil {
			x.dropped.Inc()
			x.logger.Warn("burnwatch agent: a cut was refused for good", zap.Error(err))
		} else {
			x.exported.Inc()
		}
		x.pending[0] = pendingCut{}
		x.pending = x.pending[1:]
	}
}
