package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"go.uber.org/zap"

	"github.com/burnwatch/burnwatch/alerting"
	"github.com/burnwatch/burnwatch/alerting/history"
	"github.com/burnwatch/burnwatch/alerting/notify"
	"github.com/burnwatch/burnwatch/alerting/notify/alertmanager"
	"github.com/burnwatch/burnwatch/alerting/route"
	"github.com/burnwatch/burnwatch/alerting/silence"
	"github.com/burnwatch/burnwatch/slo"
)

// alertLog is where the alert path writes ahead: the history file and the
// WAL (persistence, when storage is on).
type alertLog interface {
	record(history.Record)
	// saveAlerts writes the lifecycle and routing state after a change.
	saveAlerts(alertState)
	// saveOutbox writes a notification put in, or taken out of, the
	// outbox.
	saveOutbox(outboxRecord)
	// saveSilences writes the silences after a change.
	saveSilences([]silence.Silence)
}

// alertState is what the alerting side needs to resume: firing alerts (so
// they stay firing without a second page), the routing groups (so what was
// sent is not sent again and resolutions still due are), and in a
// checkpoint the outbox's pending notifications.
type alertState struct {
	Alerts   []alerting.AlertState   `json:"alerts"`
	Flaps    []alerting.FlapState    `json:"flaps,omitempty"`
	Groups   []route.GroupState      `json:"groups,omitempty"`
	Pending  []alerting.Notification `json:"pending,omitempty"`
	Silences []silence.Silence       `json:"silences,omitempty"`
	// Budgets is the page's budget history (App.budgetLog), carried here
	// because it rides the same checkpoint.
	Budgets []BudgetSeries `json:"budgets,omitempty"`
	// Metrics is the metric SLI runtime's state (metricsli.State, gob),
	// in the checkpoint of a clean stop only (metricState).
	Metrics []byte `json:"metrics,omitempty"`
}

// outboxRecord is one change of the outbox: a notification put in, or the
// notification of a receiver's group taken out (delivered or
// dead-lettered).
type outboxRecord struct {
	Put  *alerting.Notification `json:"put,omitempty"`
	Done *outboxDone            `json:"done,omitempty"`
}

type outboxDone struct {
	Receiver string `json:"receiver"`
	GroupKey string `json:"group_key"`
	ID       string `json:"id"`
}

// alertPath is the alert lifecycle, routing and delivery behind the
// engine: Manager → Router → Outbox. Only the evaluation goroutine calls
// update; the outbox owns its goroutines.
type alertPath struct {
	manager *alerting.Manager
	// router is nil when no receiver is configured: alerts are then only
	// logged and journaled.
	router   *route.Router
	outbox   *notify.Outbox
	silences *silence.Store
	// pusher pushes every alert to Alertmanagers; nil without them.
	pusher *alertmanager.Pusher
	logger *zap.Logger
	// log is nil when storage is off. It is set at construction, before
	// any delivery can start, and never changes.
	log alertLog

	transitions, notifications *metrics.Counter
}

func newAlertPath(cfg AlertingConfig, evaluation time.Duration, clock Clock, client ClientFactory, self *metrics.Set, logger *zap.Logger, log alertLog) (*alertPath, error) {
	notifiers, templates, _, err := buildReceivers(cfg, client)
	if err != nil {
		return nil, err
	}
	silences := silence.New()
	if log != nil {
		silences.OnChange = log.saveSilences
	}
	router, err := cfg.router(silenceFilter{silences})
	if err != nil {
		return nil, fmt.Errorf("alerting.%w", err)
	}
	p := &alertPath{
		manager: alerting.NewManager(alerting.Options{KeepFiringFor: cfg.KeepFiringFor, FlapWindow: cfg.FlapWindow}),
		router:  router, silences: silences, logger: logger, log: log,
		transitions:   self.NewCounter("burnwatch_alert_transitions_total"),
		notifications: self.NewCounter("burnwatch_notifications_total"),
	}
	attempts := map[string]*metrics.Counter{}
	for _, n := range notifiers {
		for _, o := range []notify.Outcome{notify.OutcomeDelivered, notify.OutcomeRetry, notify.OutcomeFailed, notify.OutcomeAborted} {
			attempts[n.Name()+"/"+string(o)] = self.NewCounter(series("burnwatch_notification_attempts_total", "receiver", n.Name(), "outcome", string(o)))
		}
	}
	d := cfg.Delivery
	opts := notify.Options{MaxPending: d.MaxPending, MaxAge: d.MaxAge, InitialBackoff: d.InitialBackoff, MaxBackoff: d.MaxBackoff,
		RateLimit: d.RateLimit, RateBurst: d.RateBurst, Templates: templates, Now: clock.Now,
		OnAttempt: func(a notify.Attempt) {
			if c := attempts[a.Receiver+"/"+string(a.Outcome)]; c != nil {
				c.Inc()
			}
			if p.log != nil {
				p.log.record(attemptRecord(a))
			}
			if a.Err != nil {
				// Delivery errors are bounded excerpts without secrets.
				logger.Warn("alert delivery failed", zap.String("receiver", a.Receiver), zap.String("group", a.GroupKey),
					zap.Int("attempt", a.Number), zap.String("outcome", string(a.Outcome)), zap.Time("next", a.NextAt), zap.Error(a.Err))
			}
		},
		OnDeadLetter: func(dl notify.DeadLetter) {
			self.GetOrCreateCounter(series("burnwatch_notifications_dead_letter_total", "receiver", dl.Notification.Receiver)).Inc()
			// The notification is in the message, not only in fields: the
			// collector samples repeated messages, and no dead letter may
			// go unlogged.
			logger.Error(fmt.Sprintf("alert notification given up (dead letter): receiver %s, group %s, notification %s",
				dl.Notification.Receiver, dl.Notification.GroupKey, dl.Notification.ID), zap.String("receiver", dl.Notification.Receiver),
				zap.String("group", dl.Notification.GroupKey), zap.String("notification", dl.Notification.ID),
				zap.Int("alerts", len(dl.Notification.Alerts)), zap.Int("attempts", dl.Attempts), zap.String("reason", dl.Reason))
			if p.log != nil {
				p.log.record(deadLetterRecord(dl))
			}
		},
	}
	if log != nil {
		opts.OnPut = func(n alerting.Notification) { log.saveOutbox(outboxRecord{Put: &n}) }
		opts.OnDone = func(receiver, groupKey, id string) {
			log.saveOutbox(outboxRecord{Done: &outboxDone{Receiver: receiver, GroupKey: groupKey, ID: id}})
		}
	}
	if p.outbox, err = notify.NewOutbox(notifiers, opts); err != nil {
		return nil, err
	}
	if am := cfg.Alertmanagers; am != nil {
		if p.pusher, err = newPusher(*am, evaluation, client, self, logger); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// start starts delivery, of what restore queued first.
func (p *alertPath) start() {
	p.outbox.Start()
	if p.pusher != nil {
		p.pusher.Start()
	}
}

// update applies an evaluation: lifecycle transitions are journaled, the
// router says which groups are due, and their notifications go to the
// outbox (written ahead) before the routing state that says they were sent
// is saved: a kill in between sends them twice, never not at all.
func (p *alertPath) update(now time.Time, statuses []slo.Status) {
	ts := p.manager.Update(now, statuses)
	var resolved []alerting.Alert
	for _, t := range ts {
		p.logger.Info("alert", zap.String("state", string(t.Alert.State)), zap.String("slo", t.Alert.SLO), zap.String("tier", t.Alert.Tier))
		if p.log != nil {
			p.log.record(transitionRecord(t))
		}
		if t.Alert.State == alerting.StateResolved {
			resolved = append(resolved, t.Alert)
		}
	}
	p.transitions.Add(len(ts))
	firing := p.manager.Firing()
	if p.pusher != nil {
		p.pusher.Update(now, firing, resolved)
	}
	var ns []alerting.Notification
	if p.router != nil {
		ns = p.router.Update(now, firing, resolved)
	}
	p.notifications.Add(len(ns))
	p.outbox.Put(ns...)
	if p.log != nil && (len(ts) > 0 || len(ns) > 0) {
		p.log.saveAlerts(p.state(false))
	}
}

// state is what a restart needs to resume alerting; pending adds the
// outbox, for a checkpoint.
func (p *alertPath) state(pending bool) alertState {
	s := alertState{Alerts: p.manager.Snapshot(), Flaps: p.manager.FlapStates()}
	if p.router != nil {
		s.Groups = p.router.Snapshot()
	}
	if pending {
		s.Pending = p.outbox.Pending()
		s.Silences = p.silences.Snapshot()
	}
	return s
}

// silenceFilter lets the router ask the silences; a nil store silences
// nothing.
type silenceFilter struct{ s *silence.Store }

func (f silenceFilter) Silenced(labels map[string]string, now time.Time) bool {
	return f.s != nil && f.s.Silenced(labels, now)
}

// restore resumes firing alerts without paging again, the routing groups,
// and queues what was not delivered; before start.
func (p *alertPath) restore(s alertState) {
	if err := p.manager.Restore(s.Alerts); err != nil {
		p.logger.Warn("some alert states were not restored", zap.Error(err))
	}
	p.manager.RestoreFlaps(s.Flaps)
	if p.router != nil {
		if n := p.router.Restore(s.Groups); n > 0 {
			p.logger.Info("alert groups whose route changed start afresh", zap.Int("groups", n))
		}
	}
	var pending []alerting.Notification
	for _, n := range s.Pending {
		if len(n.Alerts) > 0 { // older checkpoints queued single alerts
			pending = append(pending, n)
		}
	}
	p.outbox.Restore(pending)
	if err := p.silences.Restore(s.Silences); err != nil {
		p.logger.Warn("some silences were not restored", zap.Error(err))
	}
}

func (p *alertPath) firing() int { return len(p.manager.Firing()) }

func (p *alertPath) close(ctx context.Context) error {
	err := p.outbox.Close(ctx)
	if p.pusher != nil {
		err = errors.Join(err, p.pusher.Close(ctx))
	}
	return err
}

// newPusher builds the Alertmanager pusher, counting its attempts.
func newPusher(cfg AlertmanagersConfig, evaluation time.Duration, client ClientFactory, self *metrics.Set, logger *zap.Logger) (*alertmanager.Pusher, error) {
	c, err := client("alertmanagers", cfg.HTTP)
	if err != nil {
		return nil, fmt.Errorf("alerting.alertmanagers.http: %w", err)
	}
	return alertmanager.NewWithOptions(cfg.Config, c, alertmanager.Options{
		EvaluationInterval: evaluation,
		OnAttempt: func(a alertmanager.Attempt) {
			self.GetOrCreateCounter(series("burnwatch_alertmanager_pushes_total", "url", a.URL, "outcome", string(a.Outcome))).Inc()
			if a.Err != nil {
				logger.Warn("alertmanager push failed", zap.String("url", a.URL), zap.Int("alerts", a.Alerts),
					zap.String("outcome", string(a.Outcome)), zap.Time("next", a.NextAt), zap.Error(a.Err))
			}
		},
	})
}

// writeMetrics exposes what fires, flaps and waits per receiver.
func (p *alertPath) writeMetrics(e *exposition) {
	e.single("burnwatch_alerts_firing", "gauge", float64(p.firing()))
	e.family("burnwatch_alert_flaps_total", "counter")
	for _, f := range p.manager.FlapStates() {
		e.bounded("burnwatch_alert_flaps_total", float64(f.Flaps), "slo", f.SLO, "tier", f.Tier)
	}
	stats := p.outbox.Stats()
	e.family("burnwatch_outbox_pending", "gauge")
	for _, s := range stats {
		e.sample("burnwatch_outbox_pending", float64(s.Pending), "receiver", s.Receiver)
	}
	e.family("burnwatch_outbox_superseded_total", "counter")
	for _, s := range stats {
		e.sample("burnwatch_outbox_superseded_total", float64(s.Superseded), "receiver", s.Receiver)
	}
}

func transitionRecord(t alerting.Transition) history.Record {
	a := t.Alert
	return history.Record{Time: t.At, Event: history.EventTransition, SLO: a.SLO, Tier: a.Tier, State: string(a.State),
		Severity: string(a.Severity), BurnLong: &a.Long.Burn, BurnShort: &a.Short.Burn, BudgetLeft: &a.BudgetLeft,
		Flaps: a.Flaps, Notification: t.ID, Labels: a.Labels}
}

func attemptRecord(a notify.Attempt) history.Record {
	r := history.Record{Time: a.At, Event: history.EventAttempt, Receiver: a.Receiver, Group: a.GroupKey, Notification: a.ID,
		Attempt: a.Number, Outcome: string(a.Outcome), Fingerprints: a.Fingerprints}
	if a.Err != nil {
		r.Error = a.Err.Error()
	}
	return r
}

func deadLetterRecord(dl notify.DeadLetter) history.Record {
	n := dl.Notification
	r := history.Record{Time: time.Now(), Event: history.EventDeadLetter, Receiver: n.Receiver, Group: n.GroupKey, Notification: n.ID,
		Attempt: dl.Attempts, Error: dl.Reason}
	for _, a := range n.Alerts {
		r.Fingerprints = append(r.Fingerprints, a.Fingerprint)
	}
	return r
}
