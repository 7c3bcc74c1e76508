package app

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/burnwatch/burnwatch/slo"
)

// TestGatewayRemembersMergesAcrossCrash: a gateway killed after merging
// and writing exports, whose responses the crash may have cut off, drops
// those exports when the agents send them again after the restart, and
// merges the ones it never counted; whether its memory comes back from
// the WAL, from a checkpoint, or from both.
func TestGatewayRemembersMergesAcrossCrash(t *testing.T) {
	for _, tc := range []struct {
		name       string
		checkpoint bool // one between the first export and the second
	}{
		{"from the WAL", false},
		{"from a checkpoint and the WAL after it", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig()
			cfg.Storage.Directory = t.TempDir()
			gw := startApp(t, cfg)
			now := time.Now()
			export := func(agentID string, seq uint64, n, errs int) []AgentAggregate {
				ag := slo.NewAggregator(gw.Engine())
				ag.Add(now, events(n, "checkout", now, errs, 0))
				var out []AgentAggregate
				for _, a := range ag.Cut(nil) {
					out = append(out, AgentAggregate{Agent: agentID, Seq: seq, Aggregate: a})
				}
				return out
			}
			merge := func(a *App, batch []AgentAggregate) {
				t.Helper()
				if err := a.MergeAggregates(batch); err != nil {
					t.Fatal(err)
				}
			}
			first, second := export("a1", 1, 20, 3), export("a1", 2, 10, 1)
			other := export("a2", 1, 5, 0)
			merge(gw, first)
			if tc.checkpoint {
				if err := gw.persist.checkpoint(gw.Engine(), gw.checkpointState(), now); err != nil {
					t.Fatal(err)
				}
			}
			merge(gw, second)
			merge(gw, other)
			want := gw.Engine().Evaluate(now)[0].Period
			if want.Total != 35 || want.Bad != 4 {
				t.Fatalf("merged %+v, want 35 events, 4 bad", want)
			}
			crash(gw)

			restarted := startApp(t, cfg)
			for _, b := range [][]AgentAggregate{first, second, other} {
				merge(restarted, b)
			}
			if got := restarted.Engine().Evaluate(now)[0].Period; got != want {
				t.Fatalf("after the crash and the exports sent again: %+v, want %+v", got, want)
			}
			if v, _ := metric(restarted, `burnwatch_aggregates_dropped_total{reason="duplicate"}`); v != 3 {
				t.Fatalf("duplicates = %v, want the 3 exports sent again", v)
			}
			merge(restarted, export("a1", 3, 7, 2))
			if got := restarted.Engine().Evaluate(now)[0].Period; got.Total != want.Total+7 || got.Bad != want.Bad+2 {
				t.Fatalf("a new export after the restart: %+v, want 7 events and 2 bad more than %+v", got, want)
			}
		})
	}
}

func TestMergedRecordRoundTrip(t *testing.T) {
	at := time.Unix(0, 1_764_763_200_123_456_789)
	marks := []mergeMark{{"a1", "checkout", 7}, {"agent-2", `api{http.route="/cart"}`, 1 << 40}}
	data := appendMerged(nil, []byte("delta bytes"), at, marks)
	delta, rest, err := splitMerged(data)
	if err != nil || string(delta) != "delta bytes" {
		t.Fatalf("split: %q, %v", delta, err)
	}
	gotAt, got, err := decodeMarks(rest)
	if err != nil || !gotAt.Equal(at) || !reflect.DeepEqual(got, marks) {
		t.Fatalf("decoded %v %+v %v, want %v %+v", gotAt, got, err, at, marks)
	}
	// A record cut anywhere (a torn write) is refused, in its delta or in
	// its marks.
	for cut := range len(data) {
		_, marks, err := splitMerged(data[:cut])
		if err == nil {
			_, _, err = decodeMarks(marks)
		}
		if !errors.Is(err, errMergedRecord) {
			t.Fatalf("record cut at %d of %d: %v, want errMergedRecord", cut, len(data), err)
		}
	}
	if _, _, err := decodeMarks(append(rest, 0)); !errors.Is(err, errMergedRecord) {
		t.Fatalf("trailing byte: %v", err)
	}
	if _, _, err := splitMerged([]byte{0x05, 1}); !errors.Is(err, errMergedRecord) {
		t.Fatalf("delta past the end: %v", err)
	}
}
