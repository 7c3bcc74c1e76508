package main

import (
	"errors"
	"math"
	"os"
	"runtime/debug"
	"testing"

	"github.com/KimMachineGun/automemlimit/memlimit"
)

func TestSetMemoryLimit(t *testing.T) {
	prev := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetMemoryLimit(prev) })
	for _, tc := range []struct {
		name     string
		gomem    string
		provider memlimit.Provider
		want     int64
	}{
		{"a cgroup limit", "", memlimit.Limit(1_000_000_000), 900_000_000},
		{"a tiny limit meets the floor", "", memlimit.Limit(10 << 20), memoryLimitFloor},
		{"no limit to follow", "", func() (uint64, error) { return 0, memlimit.ErrNoLimit }, 0},
		{"the cgroup cannot be read", "", func() (uint64, error) { return 0, errors.New("no cgroup") }, 0},
		{"GOMEMLIMIT decides", "500MiB", memlimit.Limit(1_000_000_000), 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("GOMEMLIMIT", tc.gomem)
			debug.SetMemoryLimit(math.MaxInt64) // none
			before := debug.SetMemoryLimit(-1)
			got := setMemoryLimit(tc.provider)
			if got != tc.want {
				t.Fatalf("setMemoryLimit = %d, want %d", got, tc.want)
			}
			if now := debug.SetMemoryLimit(-1); tc.want > 0 && now != tc.want || tc.want == 0 && now != before {
				t.Errorf("runtime limit %d after setting %d", now, tc.want)
			}
		})
	}
}

func TestSetGCPercent(t *testing.T) {
	prev := debug.SetGCPercent(100)
	t.Cleanup(func() { debug.SetGCPercent(prev) })
	t.Setenv("GOGC", "") // set, then unset below: LookupEnv must not see it
	os.Unsetenv("GOGC")
	if got, now := setGCPercent(), debug.SetGCPercent(100); got != defaultGCPercent || now != defaultGCPercent {
		t.Errorf("without GOGC: setGCPercent = %d, runtime %d, want %d", got, now, defaultGCPercent)
	}
	// GOGC decides when set (the runtime read it at start; here it is set
	// the way the runtime would have).
	t.Setenv("GOGC", "150")
	debug.SetGCPercent(150)
	if got, now := setGCPercent(), debug.SetGCPercent(150); got != 150 || now != 150 {
		t.Errorf("with GOGC=150: setGCPercent = %d, runtime %d, want 150", got, now)
	}
}
