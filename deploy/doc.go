// Package deploy holds what ships Burnwatch (the image's build script,
// Kubernetes manifests, the Helm chart, the systemd unit, the logrotate
// snippet and the Grafana dashboard) and, in its tests, the checks that keep
// them true to the daemon: the binary built the way the Dockerfile builds it
// is static; every collector config they carry passes `burnwatch validate`
// and every spec file they carry loads; the workloads run non-root on a
// read-only root with probes on the daemon's HTTP endpoint; the chart lints
// and renders in every mode; the dashboard queries only metrics the daemon
// exposes; an agent and a gateway from the manifests pass spans end to end.
//
// The linters (helm, yamllint, shellcheck, systemd-analyze, logrotate) are
// found on the PATH; a test whose tool is missing skips and says how to
// install it. docs/deploy.md is the guide.
package deploy
