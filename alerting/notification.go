package alerting

import "time"

// Notification is one message to one receiver, Alertmanager's model: the
// alerts of one group as they stand when the group is flushed. Alerts holds
// the group's firing alerts and those resolved since its last notification,
// so a receiver that follows Status closes the incident only when the whole
// group is resolved.
type Notification struct {
	// ID identifies this notification: the same across retries and
	// restarts (a receiver can drop a repeat delivery), new at each flush.
	ID       string `json:"id"`
	Receiver string `json:"receiver"`
	// GroupKey names the group: the route and the values of its group_by
	// labels (GroupKey). GroupLabels are those values.
	GroupKey    string            `json:"group_key"`
	GroupLabels map[string]string `json:"group_labels"`
	// Alerts are sorted by SLO and tier.
	Alerts []Alert `json:"alerts"`
	// At is when the group was flushed; a delivery's give-up deadline
	// counts from here, also across restarts.
	At time.Time `json:"at"`
}

// Status is firing when any alert of the notification fires, else resolved.
func (n *Notification) Status() State {
	for i := range n.Alerts {
		if n.Alerts[i].State == StateFiring {
			return StateFiring
		}
	}
	return StateResolved
}

// Firing counts the firing alerts.
func (n *Notification) Firing() int {
	c := 0
	for i := range n.Alerts {
		if n.Alerts[i].State == StateFiring {
			c++
		}
	}
	return c
}
