package main

import (
	"errors"
	"math"
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
