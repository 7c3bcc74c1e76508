// Package console is a notifier that writes each notification as a readable
// multi-line block to an io.Writer (stdout by default in the daemon), for a
// first run without a pager and for local development.
package console
