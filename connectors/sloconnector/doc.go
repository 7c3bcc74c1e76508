// Package sloconnector hosts the SLO engine in the collector: a connector
// from traces (spans the flow processor annotated) to metrics (the SLIs, burn
// rates and budgets it computes), which also evaluates alert tiers every
// second and hands notifications to the alerting layer. As the exporter of a
// metrics pipeline it also takes OTLP metrics, for SLOs that metric and
// PromQL indicators measure (metrics.go).
//
// It is the adapter at the edge: it turns pdata into slo.Events and
// slo.Statuses into pdata and notifications; the engine and the alerting core
// know nothing of the collector.
package sloconnector
