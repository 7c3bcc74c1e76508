package main

import (
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
)

// The engine's state is long-lived (every flow's rings), so with the Go
// default (GOGC=100) the heap grows to twice that state before each
// collection: 10,000 busy flows hold ~620 MiB and reach ~1.4 GiB of
// resident memory. A soft limit makes the collector work harder only near
// the limit instead (docs/operations.md, BenchmarkRSS10kFlows). As
// Prometheus 3 does, Burnwatch sets one by default inside a container
// with a memory limit, at memoryLimitShare of it; GOMEMLIMIT, when set,
// decides instead.
const memoryLimitShare = 0.9

// setMemoryLimit applies the container's limit under root (the file
// system root) unless GOMEMLIMIT is set, and returns the limit set, or 0.
func setMemoryLimit(root string) int64 {
	if os.Getenv("GOMEMLIMIT") != "" {
		return 0
	}
	limit, ok := containerMemoryLimit(root)
	if !ok {
		return 0
	}
	soft := int64(float64(limit) * memoryLimitShare)
	debug.SetMemoryLimit(soft)
	return soft
}

// containerMemoryLimit reads the memory limit of the cgroup the process
// sees at root: cgroup v2's memory.max, else cgroup v1's
// memory.limit_in_bytes. It reports false when there is none ("max", or
// v1's page-rounded MaxInt64) or it cannot be read.
func containerMemoryLimit(root string) (int64, bool) {
	for _, p := range []string{"sys/fs/cgroup/memory.max", "sys/fs/cgroup/memory/memory.limit_in_bytes"} {
		b, err := os.ReadFile(filepath.Join(root, p))
		if err != nil {
			continue
		}
		s := strings.TrimSpace(string(b))
		if s == "max" {
			return 0, false
		}
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n <= 0 || n >= 1<<62 {
			return 0, false
		}
		return n, true
	}
	return 0, false
}
