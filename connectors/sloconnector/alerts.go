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
	"github.com/burnwatch/burnwatch/alerting/notify"
	"github.com/burnwatch/burnwatch/alerting/notify/console"
	"github.com/burnwatch/burnwatch/alerting/notify/webhook"
	"github.com/burnwatch/burnwatch/slo"
)

// alertPath is the alert lifecycle and delivery behind one engine. Only the
// evaluation goroutine calls update; the dispatcher owns its own goroutines.
type alertPath struct {
	manager    *alerting.Manager
	dispatcher *notify.Dispatcher
	logger     *zap.Logger
	// persist, when storage is on, journals every transition and attempt
	// and writes the alert state to the WAL; set before start.
	persist *persistence

	notifications *metrics.Counter
}

func newAlertPath(cfg AlertingConfig, self *metrics.Set, logger *zap.Logger) (*alertPath, error) {
	opts := alerting.DefaultOptions()
	opts.RepeatInterval = cfg.RepeatInterval
	opts.KeepFiringFor = cfg.KeepFiringFor
	var notifiers []notify.Notifier
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
		for _, o := range []notify.Outcome{notify.OutcomeDelivered, notify.OutcomeRetry, notify.OutcomeFailed, notify.OutcomeAborted} {
			delivered[n.Name()+"/"+string(o)] = self.NewCounter(fmt.Sprintf(`burnwatch_notification_attempts_total{receiver=%q,outcome=%q}`, n.Name(), o))
		}
	}
	d, err := notify.NewDispatcher(notifiers, notify.DispatchOptions{OnAttempt: func(a notify.Attempt) {
		if c := delivered[a.Receiver+"/"+string(a.Outcome)]; c != nil {
			c.Inc()
		}
		if p.persist != nil {
			p.persist.record(attemptRecord(a))
			if a.Outcome != notify.OutcomeRetry {
				p.persist.appendAlerts(p.state()) // the pending set changed
			}
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
		if p.persist != nil {
			p.persist.record(transitionRecord(n)) // journaled before it is sent
		}
	}
	if p.persist != nil {
		// Write ahead: the new notifications are recorded as pending before
		// they are handed to the dispatcher, so a kill in between re-sends
		// them after the restart instead of losing them.
		st := p.state()
		st.Pending = append(st.Pending, ns...)
		p.persist.appendAlerts(st)
	}
	p.dispatcher.Enqueue(ns...)
}

// state is what a restart needs to resume alerting.
func (p *alertPath) state() alertState {
	return alertState{Alerts: p.manager.Snapshot(), Pending: p.dispatcher.Pending()}
}

// restore resumes firing alerts without paging again and re-sends what was
// not delivered.
func (p *alertPath) restore(s alertState) {
	if err := p.manager.Restore(s.Alerts); err != nil {
		p.logger.Warn("some alert states were not restored", zap.Error(err))
	}
	p.dispatcher.Enqueue(s.Pending...)
}

// historyRecord is one line of the alert history: a transition or a
// delivery attempt.
type historyRecord struct {
	Time         time.Time         `json:"time"`
	Event        string            `json:"event"` // transition | attempt
	SLO          string            `json:"slo,omitempty"`
	Tier         string            `json:"tier,omitempty"`
	State        string            `json:"state,omitempty"`
	Severity     string            `json:"severity,omitempty"`
	BurnLong     *float64          `json:"burn_long,omitempty"`
	BurnShort    *float64          `json:"burn_short,omitempty"`
	BudgetLeft   *float64          `json:"budget_left,omitempty"`
	Notification string            `json:"notification,omitempty"`
	Receiver     string            `json:"receiver,omitempty"`
	Attempt      int               `json:"attempt,omitempty"`
	Outcome      string            `json:"outcome,omitempty"`
	Error        string            `json:"error,omitempty"`
	IDs          []string          `json:"notifications,omitempty"`
	Fingerprints []string          `json:"fingerprints,omitempty"`
	Labels       map[string]string `json:"labels,omitempty"`
}

func transitionRecord(n alerting.Notification) historyRecord {
	a := n.Alert
	return historyRecord{Time: n.At, Event: "transition", SLO: a.SLO, Tier: a.Tier, State: string(a.State),
		Severity: string(a.Severity), BurnLong: &a.Long.Burn, BurnShort: &a.Short.Burn, BudgetLeft: &a.BudgetLeft,
		Notification: n.ID, Labels: a.Labels}
}

func attemptRecord(a notify.Attempt) historyRecord {
	r := historyRecord{Time: a.At, Event: "attempt", Receiver: a.Receiver, Attempt: a.Number, Outcome: string(a.Outcome),
		IDs: a.IDs, Fingerprints: a.Fingerprints}
	if a.Err != nil {
		r.Error = a.Err.Error()
	}
	return r
}

func (p *alertPath) firing() int { return len(p.manager.Firing()) }

func (p *alertPath) close(ctx context.Context) error { return p.dispatcher.Close(ctx) }
