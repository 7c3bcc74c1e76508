package app

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// BenchmarkAddGroup measures what a new group of a grouped flow costs the
// batch that brings it: the swap to an engine with its SLO, which carries
// the state of every other SLO over (a snapshot and a restore), beside
// as many other flows, with an availability SLO each and a minute of events.
//
//	go test -run '^$' -bench AddGroup -benchtime 20x ./app/
func BenchmarkAddGroup(b *testing.B) {
	for _, others := range []int{100, 1000, 10000} {
		b.Run(fmt.Sprintf("flows=%d", others), func(b *testing.B) {
			var spec strings.Builder
			spec.WriteString(groupedSpecs)
			for i := range others {
				fmt.Fprintf(&spec, `---
apiVersion: burnwatch.dev/v1
kind: Flow
metadata: {name: f%d}
spec: {match: [{attribute: service.name, equals: s%d}]}
---
apiVersion: burnwatch.dev/v1
kind: SLO
metadata: {name: f%d-availability}
spec: {flow: f%d, target: 99.9}
`, i, i, i, i)
			}
			path := filepath.Join(b.TempDir(), "specs.yaml")
			write(b, path, strings.Replace(spec.String(), "max_groups: 2", "max_groups: 10000", 1))
			cfg := testConfig()
			cfg.Files = []string{path}
			a := startApp(b, cfg)
			now := time.Now()
			for s := range 60 {
				at := now.Add(time.Duration(s-60) * time.Second)
				for i := range others {
					if err := a.observe(at, events(5, fmt.Sprintf("f%d", i), at, 0, 0)); err != nil {
						b.Fatal(err)
					}
				}
			}
			n := 0
			for b.Loop() {
				n++
				classify(b, a, fmt.Sprintf("/r%d", n))
				a.syncGroups()
			}
			if got := len(a.core.Load().specs.SLOs); got != others+1 {
				b.Fatalf("%d SLOs in the spec set", got)
			}
		})
	}
}
