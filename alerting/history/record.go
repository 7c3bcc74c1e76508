// Package history is the alert history's schema, one JSON object per line
// of history/alerts.jsonl: every alert transition, delivery attempt and
// dead letter, in the order they happened. The daemon writes it (package
// app, through storage/journal); people and `burnwatch report` read it.
//
// The report is computed here, apart from files and flags: Read gives the
// records of history files, Analyze turns them into a Report of alert
// episodes per SLO and tier (how long, how often, flaps, night and weekend
// pages, alerts that never fired), and WriteText and WriteJSON print it.
package history

import "time"

// Events of a Record.
const (
	EventTransition = "transition"
	EventAttempt    = "attempt"
	EventDeadLetter = "dead_letter"
)

// Record is one line of the alert history. Fields are those of its Event;
// the others are left out.
type Record struct {
	Time  time.Time `json:"time"`
	Event string    `json:"event"`

	// A transition: an alert of SLO's Tier went to State (firing or
	// resolved) with these numbers. Flaps counts how often it has fired
	// again soon after resolving (alerting.Manager's flap window).
	SLO        string            `json:"slo,omitempty"`
	Tier       string            `json:"tier,omitempty"`
	State      string            `json:"state,omitempty"`
	Severity   string            `json:"severity,omitempty"`
	BurnLong   *float64          `json:"burn_long,omitempty"`
	BurnShort  *float64          `json:"burn_short,omitempty"`
	BudgetLeft *float64          `json:"budget_left,omitempty"`
	Flaps      int               `json:"flaps,omitempty"`
	Labels     map[string]string `json:"labels,omitempty"`

	// Notification is the transition's or the delivery's ID.
	Notification string `json:"notification,omitempty"`

	// An attempt or a dead letter: one delivery to Receiver of Group's
	// notification, its number, outcome and error; Fingerprints are the
	// alerts it carried.
	Receiver     string   `json:"receiver,omitempty"`
	Group        string   `json:"group,omitempty"`
	Attempt      int      `json:"attempt,omitempty"`
	Outcome      string   `json:"outcome,omitempty"`
	Error        string   `json:"error,omitempty"`
	Fingerprints []string `json:"fingerprints,omitempty"`
}
