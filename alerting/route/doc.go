// Package route decides who hears of which alerts and when, Alertmanager's
// way: a routing tree of matchers sends each alert to receivers; per route,
// alerts are grouped by labels, and a group is notified after group_wait,
// at most every group_interval when it changes, and again after
// repeat_interval while it fires. Inhibit rules, silences (package silence)
// and time intervals hold alerts back. A notification carries its group's
// alerts as they stand, so "resolved" means the whole group is.
//
// It is pure: no collector, no logger, no storage; the state a restart
// needs is a plain exported snapshot.
package route
