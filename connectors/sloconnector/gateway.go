package sloconnector

import (
	"errors"
	"fmt"

	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/burnwatch/burnwatch/app"
)

// gatewayBatch gathers the agents' aggregates of one ConsumeMetrics call,
// for the App's gateway merge.
type gatewayBatch struct {
	aggs []app.AgentAggregate
	errs []error
}

// add decodes the aggregate of an agent scope (isAggregateScope).
func (g *gatewayBatch) add(rm pmetric.ResourceMetrics, sm pmetric.ScopeMetrics) {
	ag, err := decodeAggregate(rm, sm)
	if err != nil {
		if len(g.errs) < 10 {
			g.errs = append(g.errs, err)
		}
		return
	}
	g.aggs = append(g.aggs, ag)
}

// merge hands the batch to the App. Malformed aggregates make a permanent
// error (sending them again cannot help) after the rest are merged; the
// App's own error (storage not durable) is returned as it is, for the
// sender to retry.
func (g *gatewayBatch) merge(a *app.App) error {
	var err error
	if len(g.aggs) > 0 {
		if err = a.MergeAggregates(g.aggs); errors.Is(err, app.ErrNotDurable) {
			return err
		}
	}
	if len(g.errs) > 0 {
		a.DropInvalidAggregates(len(g.errs))
		err = errors.Join(append(g.errs, err)...)
	}
	if err != nil {
		return consumererror.NewPermanent(fmt.Errorf("agent aggregates: %w", err))
	}
	return nil
}

// isAggregateScope says whether sm holds an agent's aggregate.
func isAggregateScope(sm pmetric.ScopeMetrics) bool { return sm.Scope().Name() == aggregateScope }
