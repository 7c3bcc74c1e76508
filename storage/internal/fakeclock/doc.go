// Package fakeclock is a manually advanced storage.Clock for tests.
package fakeclock
