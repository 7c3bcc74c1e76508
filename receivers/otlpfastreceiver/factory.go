package otlpfastreceiver

import (
	"context"
	"sync"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/receiver"
)

// Type is the receiver's type name in collector configuration.
var Type = component.MustNewType("otlpfast")

// NewFactory returns the fast receiver's factory. It receives traces, and
// metrics when it is in a metrics pipeline too.
func NewFactory() receiver.Factory {
	return receiver.NewFactory(Type, createDefaultConfig,
		receiver.WithTraces(createTraces, component.StabilityLevelAlpha),
		receiver.WithMetrics(createMetrics, component.StabilityLevelAlpha))
}

// receivers are the receivers made and not shut down, by config: a
// receiver in a traces and a metrics pipeline is one, on one pair of
// servers, as the otlp receiver is. The collector makes each pipeline's
// components from the same config value.
var receivers = struct {
	sync.Mutex
	m map[*Config]*fastReceiver
}{m: map[*Config]*fastReceiver{}}

// shared returns the receiver of cfg, making it on first use.
func shared(cfg *Config, set receiver.Settings) *fastReceiver {
	receivers.Lock()
	defer receivers.Unlock()
	r := receivers.m[cfg]
	if r == nil {
		r = newReceiver(cfg, set)
		r.forget = func() {
			receivers.Lock()
			delete(receivers.m, cfg)
			receivers.Unlock()
		}
		receivers.m[cfg] = r
	}
	return r
}

func createTraces(_ context.Context, set receiver.Settings, cfg component.Config, next consumer.Traces) (receiver.Traces, error) {
	r := shared(cfg.(*Config), set)
	r.next = next
	return r, nil
}

func createMetrics(_ context.Context, set receiver.Settings, cfg component.Config, next consumer.Metrics) (receiver.Metrics, error) {
	r := shared(cfg.(*Config), set)
	r.nextMetrics = next
	return r, nil
}
