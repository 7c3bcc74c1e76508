// Package e2e holds end-to-end tests of the real burnwatch binary: it is
// built once, started with a config written by the test, fed spans by the
// OpenTelemetry Go SDK over OTLP gRPC and HTTP, and expected to call a real
// HTTP webhook between two times (the shape of Alertmanager's acceptance
// tests).
package e2e
