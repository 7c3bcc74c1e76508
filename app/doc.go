// Package app is the Burnwatch daemon as a plain Go type: the teams' specs,
// the SLO engine and its evaluation loop, the alert path, persistence, and
// the daemon's own metrics. It is built in one straight line (see App) and
// can be embedded in tests and other binaries.
//
// The collector components are thin adapters around it: the burnwatch
// extension hosts one App and serves its HTTP endpoint; the flow processor
// classifies spans with App.Flows; the slo connector turns classified spans
// into events for App.Observe and exports the SLI metrics of
// App.ReadStatuses. Nothing here imports a collector package.
//
// Time: the App reads the wall clock at its edges (the evaluation tick, an
// observed batch) and passes it explicitly into the pure core; tests drive
// evaluate and observe with times of their choosing, or run in a
// testing/synctest bubble.
package app
