package sloconnector

import (
	"context"
	"sync"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/connector"
	"go.opentelemetry.io/collector/consumer"
)

// Type is the connector's type name in collector config.
var Type = component.MustNewType("slo")

// NewFactory returns the slo connector's factory.
func NewFactory() connector.Factory {
	return connector.NewFactory(Type,
		func() component.Config { return createDefaultConfig() },
		connector.WithTracesToMetrics(createTracesToMetrics, component.StabilityLevelAlpha))
}

// hosts shares one engine per component ID: the collector creates one
// connector per pipeline pair, but an SLO must be counted once.
var hosts = struct {
	sync.Mutex
	m map[component.ID]*sharedHost
}{m: map[component.ID]*sharedHost{}}

type sharedHost struct {
	*host
	refs int
}

func createTracesToMetrics(_ context.Context, set connector.Settings, cfg component.Config, next consumer.Metrics) (connector.Traces, error) {
	hosts.Lock()
	defer hosts.Unlock()
	sh := hosts.m[set.ID]
	if sh == nil {
		h, err := newHost(cfg.(*Config), set, next)
		if err != nil {
			return nil, err
		}
		sh = &sharedHost{host: h}
		hosts.m[set.ID] = sh
	}
	sh.refs++
	return &tracesConnector{shared: sh, id: set.ID}, nil
}

// release drops one reference and reports whether it was the last, in which
// case the host is forgotten so a restarted pipeline builds a fresh one.
func release(id component.ID, sh *sharedHost) bool {
	hosts.Lock()
	defer hosts.Unlock()
	sh.refs--
	if sh.refs > 0 {
		return false
	}
	if hosts.m[id] == sh {
		delete(hosts.m, id)
	}
	return true
}
