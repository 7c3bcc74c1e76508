package app

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/VictoriaMetrics/metrics"

	"github.com/burnwatch/burnwatch/slo"
)

// Modes: what the App does with the events it counts.
const (
	// ModeStandalone evaluates and alerts on what it counts (default). A
	// gateway is a standalone App that also merges agents' aggregates.
	ModeStandalone = "standalone"
	// ModeAgent pre-aggregates each flow per slot and hands the aggregates
	// to the slo connector, which exports them as OTLP metrics to
	// gateways every agent.interval; it evaluates nothing and sends no
	// alert.
	ModeAgent = "agent"
)

// AgentConfig tunes agent mode.
type AgentConfig struct {
	// Interval is how often the aggregates are cut and exported (default
	// 5s).
	Interval time.Duration `mapstructure:"interval"`
	// MaxPending bounds the exports kept to send again while the metrics
	// pipeline refuses them (default 120, ten minutes at 5s); older ones
	// are dropped and counted.
	MaxPending int `mapstructure:"max_pending"`
}

// DefaultAgentConfig are the agent defaults.
func DefaultAgentConfig() AgentConfig {
	return AgentConfig{Interval: 5 * time.Second, MaxPending: 120}
}

func (c *Config) checkMode() error {
	switch c.Mode {
	case "", ModeStandalone:
		return nil
	case ModeAgent:
	default:
		return fmt.Errorf("mode: %q is not one of standalone, agent", c.Mode)
	}
	var errs []error
	if c.Agent.Interval <= 0 {
		errs = append(errs, fmt.Errorf("agent.interval: %v must be positive", c.Agent.Interval))
	}
	if c.Agent.MaxPending < 0 {
		errs = append(errs, fmt.Errorf("agent.max_pending: %d must not be negative", c.Agent.MaxPending))
	}
	if c.Storage.Directory != "" {
		errs = append(errs, errors.New("storage.directory: an agent keeps no state (its gateways do); remove it, or leave mode: agent"))
	}
	return errors.Join(errs...)
}

// agent is the App's aggregation in agent mode. Each spec set (core) has
// its own Aggregator, built at its first batch; one a reload replaced is
// retired, and cut once more so nothing it counted is lost.
type agent struct {
	// events counts the events aggregated (burnwatch_agent_events_total):
	// an agent's engine counts none.
	events     *metrics.Counter
	eventsOnce sync.Once
	cur        atomic.Pointer[agentAgg]
	// mu guards retired and orders building an Aggregator.
	mu      sync.Mutex
	retired []*slo.Aggregator
}

type agentAgg struct {
	core *core
	agg  *slo.Aggregator
}

// aggregator returns the Aggregator for c.
func (g *agent) aggregator(c *core) *slo.Aggregator {
	if cur := g.cur.Load(); cur != nil && cur.core == c {
		return cur.agg
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	cur := g.cur.Load()
	if cur != nil && cur.core == c {
		return cur.agg
	}
	if cur != nil {
		g.retired = append(g.retired, cur.agg)
	}
	next := &agentAgg{core: c, agg: slo.NewAggregator(c.engine)}
	g.cur.Store(next)
	return next.agg
}

// cut appends what every Aggregator counted since the last cut.
func (g *agent) cut(dst []slo.Aggregate) []slo.Aggregate {
	g.mu.Lock()
	retired := g.retired
	g.retired = nil
	cur := g.cur.Load()
	g.mu.Unlock()
	// A retired Aggregator gets no batch after the reload that retired it
	// (Observe holds swapMu), so this cut is its last.
	for _, r := range retired {
		dst = r.Cut(dst)
	}
	if cur != nil {
		dst = cur.agg.Cut(dst)
	}
	return dst
}

// IsAgent says whether the App runs in agent mode, and with what settings.
func (a *App) IsAgent() (AgentConfig, bool) {
	return a.cfg.Agent, a.scale.agent != nil
}

// CutAggregates returns what an agent counted since the previous cut: per
// flow with events, its slots and its SLOs' verdicts (nil for an App not in
// agent mode).
func (a *App) CutAggregates() []slo.Aggregate {
	if a.scale.agent == nil {
		return nil
	}
	return a.scale.agent.cut(nil)
}

// AggregateWidth is the agent's slot width now (0 for an App not in agent
// mode).
func (a *App) AggregateWidth() time.Duration {
	if a.scale.agent == nil {
		return 0
	}
	return a.scale.agent.aggregator(a.core.Load()).Width()
}

// scaleOut is the App's state for scale-out: the aggregation of an agent,
// or a gateway's memory of what it merged and its counters.
type scaleOut struct {
	agent   *agent // nil unless mode: agent
	dedup   dedup
	gateway gatewayCounters
}

// observeAgent hands an agent's batch to its Aggregator; it reports false
// for an App not in agent mode.
func (a *App) observeAgent(c *core, now time.Time, evs []slo.Event) bool {
	if a.scale.agent == nil {
		return false
	}
	g := a.scale.agent
	g.aggregator(c).Add(now, evs)
	g.eventsOnce.Do(func() { g.events = a.self.GetOrCreateCounter("burnwatch_agent_events_total") })
	g.events.Add(len(evs))
	return true
}
