package specs

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// BenchmarkLoad reads one file of n flows (a service and a route each) with
// an availability SLO on each: 2n documents. The goal is 10,000+ documents
// in well under a second.
func BenchmarkLoad(b *testing.B) {
	for _, n := range []int{1_000, 10_000} {
		b.Run(fmt.Sprintf("flows=%d", n), func(b *testing.B) {
			var sb strings.Builder
			for i := range n {
				fmt.Fprintf(&sb, `apiVersion: burnwatch.dev/v1
kind: Flow
metadata: {name: f%d}
spec:
  match:
    - {attribute: service.name, equals: svc-%d}
    - {attribute: http.route, equals: /api/v1/r%d}
---
apiVersion: burnwatch.dev/v1
kind: SLO
metadata: {name: f%d-availability}
spec:
  flow: f%d
  target: 99.9
  period: 30d
---
`, i, i%10, i/10, i, i)
			}
			path := filepath.Join(b.TempDir(), "specs.yaml")
			if err := os.WriteFile(path, []byte(sb.String()), 0o644); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				set, err := Load(path)
				if err != nil || len(set.SLOs) != n {
					b.Fatalf("%d SLOs, %v", len(set.SLOs), err)
				}
			}
		})
	}
}
