package sloconnector

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"go.uber.org/zap"

	"github.com/burnwatch/burnwatch/alerting"
	"github.com/burnwatch/burnwatch/alerting/console"
	"github.com/burnwatch/burnwatch/alerting/webhook"
	"github.com/burnwatch/burnwatch/slo"
)

// alertPath is the alert lifecycle and delivery behind one engine. Only the
// evaluation goroutine calls update; the dispatcher owns its own goroutines.
type alertPath struct {
	manager    *alerting.Manager
	dispatcher *alerting.Dispatcher
	logger     *zap.Logger

	notifications *metrics.Counter
}

func newAlertPath(cfg AlertingConfig, self *metrics.Set, logger *zap.Logger) (*alertPath, error) {
	opts := alerting.DefaultOptions()
	opts.RepeatInterval = cfg.RepeatInterval
	opts.KeepFiringFor = cfg.KeepFiringFor
	var notifiers []alerting.Notifier
	if cfg.Console {
		notifiers = append(notifiers, console.New("console", os.Stdout))
	}
	client := &http.Client{}
	for _, w := range cfg.Webhooks {
		if w.URL == "" {
			continue
		}
		n, err := webhook.New(w.notifierConfig(), client)
		if err != nil {
			return nil, fmt.Errorf("alerting.webhooks %q: %w", w.Name, err)
		}
		notifiers = append(notifiers, n)
	}
	p := &alertPath{manager: alerting.NewManager(opts), logger: logger,
		notifications: self.NewCounter("burnwatch_alert_notifications_total")}
	delivered := map[string]*metrics.Counter{}
	for _, n := range notifiers {
		for _, o := range []alerting.Outcome{alerting.OutcomeDelivered, alerting.OutcomeRetry, alerting.OutcomeFailed, alerting.OutcomeAborted} {
			delivered[n.Name()+"/"+string(o)] = self.NewCounter(fmt.Sprintf(`burnwatch_notification_attempts_total{receiver=%q,outcome=%q}`, n.Name(), o))
		}
	}
	d, err := alerting.NewDispatcher(notifiers, alerting.DispatchOptions{OnAttempt: func(a alerting.Attempt) {
		if c := delivered[a.Receiver+"/"+string(a.Outcome)]; c != nil {
			c.Inc()
		}
		if a.Err != nil {
			// Delivery errors are bounded excerpts without secrets.
			logger.Warn("alert delivery failed", zap.String("receiver", a.Receiver), zap.Int("attempt", a.Number),
				zap.String("outcome", string(a.Outcome)), zap.Time("next", a.NextAt), zap.Error(a.Err))
		}
	}})
	if err != nil {
		return nil, err
	}
	p.dispatcher = d
	return p, nil
}

func (p *alertPath) update(now time.Time, statuses []slo.Status) {
	ns := p.manager.Update(now, statuses)
	if len(ns) == 0 {
		return
	}
	p.notifications.Add(len(ns))
	for _, n := range ns {
		p.logger.Info("alert", zap.String("state", string(n.Alert.State)), zap.String("slo", n.Alert.SLO), zap.String("tier", n.Alert.Tier))
	}
	p.dispatcher.Enqueue(ns...)
}

func (p *alertPath) firing() int { return len(p.manager.Firing()) }

func (p *alertPath) close(ctx context.Context) error { return p.dispatcher.Close(ctx) }
