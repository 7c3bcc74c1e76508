package history

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/burnwatch/burnwatch/storage/journal"

	"github.com/burnwatch/burnwatch/specs"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// testdata/alerts.jsonl, times in UTC; Berlin is UTC+1 until 29 March 2026.
// 2 March 2026 is a Monday, 7 March a Saturday. The report runs --since 7d
// --until 2026-03-09T00:00:00Z --tz Europe/Berlin: the period is
// 2026-03-02T00:00Z to 2026-03-09T00:00Z, flap window 1h, night 22:00-07:00.
//
//	line  time (UTC)       record
//	 1                     journal header: skipped by journal.ReadFile
//	 2-3  03-01 20:00-21:00 checkout-availability/ticket-fast fires and resolves: before the period, not counted
//	 4-5  03-01 23:50-03-02 00:10 search-latency/page-fast: started before the period, counts 10m from its start
//	 6    03-02 00:45       checkout-availability/page-slow resolved, its firing rotated away: 00:00-00:45 = 45m,
//	                        start unknown, so not a night page although 01:45 Berlin is night
//	 7,9  03-02 10:00-10:20 page-fast E1: 20m, 11:00 Berlin Monday
//	 8    03-02 10:00:02    attempt
//	10    03-02 10:00:03    attempt, out of order (older than line 9)
//	11-12 03-02 10:40-11:10 page-fast E2: 30m; starts 20m after E1 ended: a flap
//	13                      malformed (cut off): record 12 of the file after its header
//	14-15 03-03 06:30-06:30:40 page-fast E3: 40s, under a minute; 07:30 Berlin is not night (06:30 UTC would be)
//	16    03-03 08:00       event "silenced": unknown
//	17-19 03-04 12:00-12:30 search-latency/page-fast: 30m; the firing at 12:05 is repeated, ignored
//	20-21 03-04 22:30-03-05 00:30 page-fast E4: 2h; 23:30 Berlin Wednesday: a night page
//	22-23 03-05 23:00-03-06 01:00 ticket-fast: 2h; 00:00 Berlin is night but a ticket pages no one
//	24    03-06 01:00:05    dead letter
//	25-26 03-06 01:30-02:00 ticket-fast: 30m; 30m after the last one ended: a flap
//	27-28 03-07 09:00-09:50 page-fast E5: 50m; 10:00 Berlin Saturday: a weekend page
//	29    03-08 20:00       budget-50 fires and stays open: to 03-09 00:00, 4h
//
// Records: 28 lines after the header, one malformed: 27. Transitions: 27
// less 2 attempts, 1 dead letter, 1 unknown event: 23.
//
// Rows, by SLO then tier:
//   - checkout-availability/budget-50, ticket: 1 episode, open, 4h; median 4h.
//   - checkout-availability/page-fast, page: E1-E5 are 20m, 30m, 40s, 2h, 50m:
//     total 3h 40m 40s (13240 s); sorted 40s, 20m, 30m, 50m, 2h: median 30m;
//     1 flap (E2), 2 night/weekend pages (E4, E5), 1 under a minute (E3).
//   - checkout-availability/page-slow, page: 1 episode, 45m; median 45m;
//     nothing else (its start is unknown).
//   - checkout-availability/ticket-fast, ticket: 2h and 30m (the episode on
//     1 March is before the period): total 2h 30m, median (2h+30m)/2 = 1h
//     15m; 1 flap.
//   - search-latency/page-fast, page: 10m (clipped) and 30m: total 40m,
//     median 20m; the first started before the period, so its 00:50 Berlin
//     start is not a night page.
//
// Total: 5 alerts, 1+5+1+2+2 = 11 episodes, 1 open, 4h + 3h40m40s + 45m +
// 2h30m + 40m = 11h 35m 40s (41740 s), 2 flaps, 2 night/weekend pages, 1
// under a minute.
//
// testdata/specs.yaml defines 10 alerts; never fired are
// checkout-availability no-data and ticket-slow, search-latency
// exhaustion-1d, page-slow and ticket-fast: 5.
var (
	reportFlags = Flags{Since: "7d", Until: "2026-03-09T00:00:00Z", TimeZone: "Europe/Berlin"}
	since       = time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	until       = time.Date(2026, 3, 9, 0, 0, 0, 0, time.UTC)
	budgetSince = time.Date(2026, 3, 8, 20, 0, 0, 0, time.UTC)
)

func wantRows() []Row {
	return []Row{
		{Alert: Alert{"checkout-availability", "budget-50", "ticket"}, Episodes: 1, Open: 1, FiringSince: &budgetSince,
			Firing: hours(4), Median: hours(4)},
		{Alert: Alert{"checkout-availability", "page-fast", "page"}, Episodes: 5,
			Firing: Seconds(3*time.Hour + 40*time.Minute + 40*time.Second), Median: minutes(30),
			Flaps: 1, OffHoursPages: 2, ShortEpisodes: 1},
		{Alert: Alert{"checkout-availability", "page-slow", "page"}, Episodes: 1, Firing: minutes(45), Median: minutes(45)},
		{Alert: Alert{"checkout-availability", "ticket-fast", "ticket"}, Episodes: 2, Firing: minutes(150), Median: minutes(75), Flaps: 1},
		{Alert: Alert{"search-latency", "page-fast", "page"}, Episodes: 2, Firing: minutes(40), Median: minutes(20)},
	}
}

func wantTotal() Total {
	return Total{Alerts: 5, Episodes: 11, Open: 1, Firing: Seconds(11*time.Hour + 35*time.Minute + 40*time.Second),
		Flaps: 2, OffHoursPages: 2, ShortEpisodes: 1}
}

func wantNeverFired() []Alert {
	return []Alert{
		{"checkout-availability", "no-data", "ticket"},
		{"checkout-availability", "ticket-slow", "ticket"},
		{"search-latency", "exhaustion-1d", "ticket"},
		{"search-latency", "page-slow", "page"},
		{"search-latency", "ticket-fast", "ticket"},
	}
}

func hours(n int) Seconds   { return Seconds(time.Duration(n) * time.Hour) }
func minutes(n int) Seconds { return Seconds(time.Duration(n) * time.Minute) }

// report builds the report of the history files with testdata/specs.yaml.
func report(t *testing.T, patterns ...string) Report {
	t.Helper()
	opts, err := reportFlags.Options(time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	set, err := specs.Load("testdata/specs.yaml")
	if err != nil {
		t.Fatal(err)
	}
	opts.Expected, opts.CheckNeverFired = SpecAlerts(set.SLOs), true
	files, err := Files(patterns)
	if err != nil {
		t.Fatal(err)
	}
	log, err := Read(files, journal.ReadFile)
	if err != nil {
		t.Fatal(err)
	}
	return Analyze(log, opts)
}

func TestReport(t *testing.T) {
	r := report(t, "testdata/alerts.jsonl")
	if !r.Since.Equal(since) || !r.Until.Equal(until) {
		t.Errorf("period %v to %v, want %v to %v", r.Since, r.Until, since, until)
	}
	checkNumbers(t, r)
	want := Input{Files: []string{"testdata/alerts.jsonl"}, Records: 27, Transitions: 23, Attempts: 2, DeadLetters: 1,
		Malformed: 1, MalformedExamples: []string{"testdata/alerts.jsonl: record 12: unexpected end of JSON input"},
		UnknownEvents: 1, OutOfOrder: 1, Repeated: 1, ResolvedWithoutFiring: 1}
	if !reflect.DeepEqual(r.Input, want) {
		t.Errorf("input\n got %+v\nwant %+v", r.Input, want)
	}

	var text, js bytes.Buffer
	if err := WriteText(&text, r); err != nil {
		t.Fatal(err)
	}
	if err := WriteJSON(&js, r); err != nil {
		t.Fatal(err)
	}
	golden(t, "testdata/report.txt", text.Bytes())
	golden(t, "testdata/report.json", js.Bytes())

	var back Report
	if err := json.Unmarshal(js.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	checkNumbers(t, back)
}

// checkNumbers compares r with the numbers worked out above.
func checkNumbers(t *testing.T, r Report) {
	t.Helper()
	if got, want := r.Alerts, wantRows(); !reflect.DeepEqual(got, want) {
		t.Errorf("rows:\n got %+v\nwant %+v", got, want)
	}
	if got, want := r.Total, wantTotal(); got != want {
		t.Errorf("total %+v, want %+v", got, want)
	}
	if got, want := r.NeverFired, wantNeverFired(); !r.SpecsChecked || r.SpecAlerts != 10 || !reflect.DeepEqual(got, want) {
		t.Errorf("never fired (checked %v, of %d): %v, want %v of 10", r.SpecsChecked, r.SpecAlerts, got, want)
	}
}

// TestReportRotated reads the history split in two, the older half rotated
// and compressed with zstd as the journal leaves it: the report is the
// same.
func TestReportRotated(t *testing.T) {
	data, err := os.ReadFile("testdata/alerts.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	lines := bytes.SplitAfter(data, []byte("\n"))
	header := lines[0]
	dir := t.TempDir()
	// Lines 2-16 go to the rotated file, 17-29 to the current one; each
	// starts with a header.
	writeZstd(t, filepath.Join(dir, "alerts-20260304T000000Z.jsonl.zst"), bytes.Join(append([][]byte{header}, lines[1:16]...), nil))
	write(t, filepath.Join(dir, "alerts.jsonl"), bytes.Join(append([][]byte{header}, lines[16:]...), nil))

	r := report(t, filepath.Join(dir, "alerts*.jsonl*"))
	checkNumbers(t, r)
	if want := []string{filepath.Join(dir, "alerts-20260304T000000Z.jsonl.zst"), filepath.Join(dir, "alerts.jsonl")}; !reflect.DeepEqual(r.Input.Files, want) {
		t.Errorf("files %v, want %v (rotated first)", r.Input.Files, want)
	}
	if r.Input.Records != 27 || r.Input.Malformed != 1 || r.Input.OutOfOrder != 1 {
		t.Errorf("input %+v: want 27 records, 1 malformed, 1 out of order", r.Input)
	}
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	if *update {
		write(t, name, got)
		return
	}
	want, err := os.ReadFile(name)
	if err != nil {
		t.Fatalf("%v (go test -update writes it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (go test -update rewrites it); got:\n%s", name, got)
	}
}

func write(t *testing.T, name string, data []byte) {
	t.Helper()
	if err := os.WriteFile(name, data, 0o644); err != nil {
		t.Fatal(err)
	}
}
