package main

import (
	"log/slog"
	"math"
	"os"
	"runtime/debug"

	"github.com/KimMachineGun/automemlimit/memlimit"
)

// The engine's state is long-lived (every flow's rings), so with the Go
// default (GOGC=100) the heap grows to twice that state before each
// collection: 10,000 busy flows hold ~620 MiB and reach ~1.4 GiB of
// resident memory. A soft limit makes the collector work harder only near
// the limit instead (docs/operations.md, BenchmarkRSS10kFlows). As
// Prometheus 3 does, Burnwatch sets one by default at memoryLimitShare of
// the memory limit of the cgroup it runs in — its own, nested ones and a
// systemd unit's MemoryMax= included (automemlimit reads /proc/self) —
// never below memoryLimitFloor. GOMEMLIMIT, when set, decides instead.
const (
	memoryLimitShare = 0.9
	// memoryLimitFloor keeps a tiny container limit from making the
	// garbage collector run without pause on the daemon's working set.
	memoryLimitFloor = 64 << 20
)

// setMemoryLimit sets the soft memory limit from provider (the cgroup's
// limit in main) and returns it, or 0 when none was set: GOMEMLIMIT is set,
// or there is no limit to follow.
func setMemoryLimit(provider memlimit.Provider) int64 {
	limit, err := memlimit.Set(
		memlimit.WithRatio(memoryLimitShare),
		memlimit.WithMin(memoryLimitFloor),
		memlimit.WithProvider(provider),
		memlimit.WithLogger(slog.New(slog.DiscardHandler)),
	)
	if err != nil || limit == math.MaxInt64 { // none set: GOMEMLIMIT, or no limit
		return 0
	}
	return limit
}

// defaultGCPercent is the GOGC Burnwatch runs with unless GOGC is set. The
// heap grows to (1 + GOGC/100) times the state before each collection, and
// where no memory limit is known (a host, or a container without one) that
// is the resident set: 100,000 flows under light traffic peaked at
// 3.8-4.4 GB at the default of 100 and at 3.4 GB at 75 (docs/benchmarks.md,
// many flows), for at most 3% more CPU at 10,000 busy flows. Prometheus
// defaults to 75 for the same reason (runtime.gogc).
const defaultGCPercent = 75

// setGCPercent sets defaultGCPercent unless GOGC is set, and returns the
// percentage in force.
func setGCPercent() int {
	if _, ok := os.LookupEnv("GOGC"); ok {
		p := debug.SetGCPercent(-1)
		debug.SetGCPercent(p)
		return p
	}
	debug.SetGCPercent(defaultGCPercent)
	return defaultGCPercent
}
