package app

import (
	"context"
	"fmt"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"go.uber.org/zap"

	"github.com/burnwatch/burnwatch/alerting"
	"github.com/burnwatch/burnwatch/alerting/notify"
	"github.com/burnwatch/burnwatch/slo"
)

// alertLog is where the alert path writes ahead: the history file and the
// WAL's alert state (persistence, when storage is on).
type alertLog interface {
	record(historyRecord)
	saveAlerts(alertState)
}

// alertPath is the alert lifecycle and delivery behind the engine. Only the
// evaluation goroutine calls update; the dispatcher owns its goroutines.
type alertPath struct {
	manager    *alerting.Manager
	dispatcher *notify.Dispatcher
	logger     *zap.Logger
	// log is nil when storage is off. It is set at construction, before
	// any delivery can start, and never changes.
	log alertLog

	notifications *metrics.Counter
}

func newAlertPath(cfg AlertingConfig, notifiers []notify.Notifier, self *metrics.Set, logger *zap.Logger, log alertLog) (*alertPath, error) {
	opts := alerting.DefaultOptions()
	opts.RepeatInterval = cfg.RepeatInterval
	opts.KeepFiringFor = cfg.KeepFiringFor
	p := &alertPath{manager: alerting.NewManager(opts), logger: logger, log: log,
		notifications: self.NewCounter("burnwatch_alert_notifications_total")}
	attempts := map[string]*metrics.Counter{}
	for _, n := range notifiers {
		for _, o := range []notify.Outcome{notify.OutcomeDelivered, notify.OutcomeRetry, notify.OutcomeFailed, notify.OutcomeAborted} {
			attempts[n.Name()+"/"+string(o)] = self.NewCounter(fmt.Sprintf(`burnwatch_notification_attempts_total{receiver=%q,outcome=%q}`, n.Name(), o))
		}
	}
	d, err := notify.NewDispatcher(notifiers, notify.DispatchOptions{OnAttempt: func(a notify.Attempt) {
		if c := attempts[a.Receiver+"/"+string(a.Outcome)]; c != nil {
			c.Inc()
		}
		if p.log != nil {
			p.log.record(attemptRecord(a))
			if a.Outcome != notify.OutcomeRetry {
				p.log.saveAlerts(p.state()) // the pending set changed
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

// start starts delivery, of what restore queued first.
func (p *alertPath) start() { p.dispatcher.Start() }

func (p *alertPath) update(now time.Time, statuses []slo.Status) {
	ns := p.manager.Update(now, statuses)
	if len(ns) == 0 {
		return
	}
	p.notifications.Add(len(ns))
	for _, n := range ns {
		p.logger.Info("alert", zap.String("state", string(n.Alert.State)), zap.String("slo", n.Alert.SLO), zap.String("tier", n.Alert.Tier))
		if p.log != nil {
			p.log.record(transitionRecord(n)) // journaled before it is sent
		}
	}
	if p.log != nil {
		// Write ahead: the new notifications are recorded as pending before
		// they are handed to the dispatcher, so a kill in between re-sends
		// them after the restart instead of losing them.
		st := p.state()
		st.Pending = append(st.Pending, ns...)
		p.log.saveAlerts(st)
	}
	p.dispatcher.Enqueue(ns...)
}

// state is what a restart needs to resume alerting.
func (p *alertPath) state() alertState {
	return alertState{Alerts: p.manager.Snapshot(), Pending: p.dispatcher.Pending()}
}

// restore resumes firing alerts without paging again and queues what was
// not delivered, before start.
func (p *alertPath) restore(s alertState) {
	if err := p.manager.Restore(s.Alerts); err != nil {
		p.logger.Warn("some alert states were not restored", zap.Error(err))
	}
	p.dispatcher.Enqueue(s.Pending...)
}

func (p *alertPath) firing() int { return len(p.manager.Firing()) }

func (p *alertPath) close(ctx context.Context) error { return p.dispatcher.Close(ctx) }

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
