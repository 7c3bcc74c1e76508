package storage

import "time"

// Clock tells the time. Storage reads the wall clock only through it so that
// tests can drive hours of rotation and retention without sleeping.
type Clock interface {
	Now() time.Time
}

// SystemClock is the Clock backed by time.Now.
type SystemClock struct{}

// Now returns time.Now().
func (SystemClock) Now() time.Time { return time.Now() }
