package app

import (
	"bytes"
	"encoding/gob"
	"errors"

	"go.uber.org/zap"

	"github.com/burnwatch/burnwatch/metricsli"
)

// ErrStopping is returned by ObserveMetrics once the App is stopping.
var ErrStopping = errors.New("burnwatch is stopping")

// The metric SLI runtime's state across a restart. Its cumulative streams'
// last points say where the next points' increases start; counts made from
// them are in the engine, and the two must be of the same instant, or an
// increase is counted twice or lost. A clean stop writes the state into its
// final checkpoint, after the receivers stopped and with further batches
// refused, so both are exact; a restore uses it only when nothing was
// written after that checkpoint. After a kill -9 each stream's first point
// is a baseline again (docs/indicators.md).

// metricState stops metric ingestion and returns the runtime's state,
// encoded, for the final checkpoint; nil when there is none, or when a
// batch is still between the runtime and the WAL.
func (a *App) metricState() []byte {
	m := &a.metricIngest
	m.mu.Lock()
	defer m.mu.Unlock()
	m.closed = true
	var st *metricsli.State
	switch {
	case m.inflight > 0:
		a.logger.Warn("a metric batch was still being counted at the stop: the metric streams start from baselines after the restart")
		return nil
	case m.rt != nil:
		s := m.rt.State()
		st = &s
	default:
		st = m.restored // restored, and no batch since: still exact
	}
	if st == nil || len(st.Streams) == 0 && len(st.SLOs) == 0 {
		return nil
	}
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(st); err != nil {
		a.logger.Warn("cannot encode the metric streams for the restart", zap.Error(err))
		return nil
	}
	return buf.Bytes()
}

// restoreMetricState keeps the state a clean stop wrote for the runtime
// the first batch builds.
func (a *App) restoreMetricState(data []byte) {
	if len(data) == 0 {
		return
	}
	var st metricsli.State
	if err := gob.NewDecoder(bytes.NewReader(data)).Decode(&st); err != nil {
		a.logger.Warn("cannot read the metric streams of the last stop: they start from baselines", zap.Error(err))
		return
	}
	m := &a.metricIngest
	m.mu.Lock()
	m.restored = &st
	m.mu.Unlock()
	a.logger.Info("metric streams restored from the last stop", zap.Int("streams", len(st.Streams)))
}
