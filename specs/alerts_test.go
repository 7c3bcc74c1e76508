package specs

import (
	"reflect"
	"testing"
	"time"

	"github.com/burnwatch/burnwatch/slo"
)

// TestParseAlertConditions checks defaults and forms of the alerts beyond
// the tiers: default names and severities, percentages written several
// ways, and that a disabled tier's name is free again.
func TestParseAlertConditions(t *testing.T) {
	doc := `
apiVersion: burnwatch.dev/v1
kind: SLO
metadata: {name: s}
spec:
  flow: f
  target: 99.9
  alerting:
    disable: [page-fast]
    budget:
      - {consumed: 7}
      - {consumed: 33.3}
      - {consumed: "100", severity: page}
      - {consumed: 25, name: page-fast}
    exhaustion:
      - {within: 24h}
      - {within: 1h30m, window: 5m, severity: page, name: fast-exhaustion}
    no_data: {after: 10m}
`
	set, err := Parse("x.yaml", []byte(doc))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	s := set.SLOs[0]
	wantBudget := []slo.BudgetAlert{
		{Name: "budget-7", Severity: slo.Ticket, Consumed: 0.07},
		{Name: "budget-33.3", Severity: slo.Ticket, Consumed: 0.333},
		{Name: "budget-100", Severity: slo.Page, Consumed: 1},
		{Name: "page-fast", Severity: slo.Ticket, Consumed: 0.25},
	}
	if !reflect.DeepEqual(s.BudgetAlerts, wantBudget) {
		t.Errorf("BudgetAlerts:\n got %+v\nwant %+v", s.BudgetAlerts, wantBudget)
	}
	wantExhaustion := []slo.ExhaustionAlert{
		{Name: "exhaustion-1d", Severity: slo.Ticket, Window: time.Hour, Within: 24 * time.Hour},
		{Name: "fast-exhaustion", Severity: slo.Page, Window: 5 * time.Minute, Within: 90 * time.Minute},
	}
	if !reflect.DeepEqual(s.ExhaustionAlerts, wantExhaustion) {
		t.Errorf("ExhaustionAlerts:\n got %+v\nwant %+v", s.ExhaustionAlerts, wantExhaustion)
	}
	if s.NoData != 10*time.Minute || s.NoDataSeverity != slo.Ticket {
		t.Errorf("no data %v %q, want 10m ticket", s.NoData, s.NoDataSeverity)
	}
	if got := len(s.Tiers); got != 3 || s.Tiers[0].Name != "page-slow" {
		t.Errorf("tiers %+v, want page-fast disabled", s.Tiers)
	}
	if s.Calendar != nil || s.Period != slo.DefaultPeriod {
		t.Errorf("calendar %+v period %v, want rolling 30d", s.Calendar, s.Period)
	}

	// Without an alerting block, none of the conditions exist.
	set, err = Parse("x.yaml", []byte("apiVersion: burnwatch.dev/v1\nkind: SLO\nmetadata: {name: s}\nspec: {flow: f, target: 99}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if s := set.SLOs[0]; s.BudgetAlerts != nil || s.ExhaustionAlerts != nil || s.NoData != 0 || s.NoDataSeverity != "" {
		t.Errorf("defaults: %+v", s)
	}
}

// TestParseCalendarMonthInZone checks that a month in Berlin loads the real
// zone, with its daylight saving time, not a fixed offset.
func TestParseCalendarMonthInZone(t *testing.T) {
	tests := []struct {
		name     string
		extra    string
		unit     slo.CalendarUnit
		period   time.Duration
		zone     string
		start    time.Weekday
		midnight [2]time.Time // local midnights on 1 March and 1 April 2026, in UTC
	}{
		{
			name: "month in Berlin", extra: "  period: month\n  time_zone: Europe/Berlin\n",
			unit: slo.Month, period: 30 * 24 * time.Hour, zone: "Europe/Berlin",
			// CET (UTC+1) before 29 March 2026, CEST (UTC+2) after.
			midnight: [2]time.Time{time.Date(2026, 2, 28, 23, 0, 0, 0, time.UTC), time.Date(2026, 3, 31, 22, 0, 0, 0, time.UTC)},
		},
		{
			name: "week in New York", extra: "  period: week\n  time_zone: America/New_York\n  week_start: sunday\n",
			unit: slo.Week, period: 7 * 24 * time.Hour, zone: "America/New_York", start: time.Sunday,
			// EST (UTC-5) before 8 March 2026, EDT (UTC-4) after.
			midnight: [2]time.Time{time.Date(2026, 3, 1, 5, 0, 0, 0, time.UTC), time.Date(2026, 4, 1, 4, 0, 0, 0, time.UTC)},
		},
		{
			name: "week defaults", extra: "  period: week\n",
			unit: slo.Week, period: 7 * 24 * time.Hour, start: time.Monday,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := "apiVersion: burnwatch.dev/v1\nkind: SLO\nmetadata: {name: s}\nspec:\n  flow: f\n  target: 99.9\n" + tt.extra
			set, err := Parse("x.yaml", []byte(doc))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			s := set.SLOs[0]
			c := s.Calendar
			if c == nil {
				t.Fatalf("Calendar is nil")
			}
			if c.Unit != tt.unit || c.WeekStart != tt.start || s.Period != tt.period {
				t.Errorf("unit %v week start %v period %v, want %v %v %v", c.Unit, c.WeekStart, s.Period, tt.unit, tt.start, tt.period)
			}
			// The default tiers scale from the nominal length.
			if !reflect.DeepEqual(s.Tiers, slo.DefaultTiers(tt.period)) {
				t.Errorf("tiers %+v, want the defaults for %v", s.Tiers, tt.period)
			}
			if tt.zone == "" {
				if c.Location != nil {
					t.Errorf("Location = %v, want nil (UTC)", c.Location)
				}
				return
			}
			if c.Location == nil || c.Location.String() != tt.zone {
				t.Fatalf("Location = %v, want %s", c.Location, tt.zone)
			}
			for i, month := range []time.Month{time.March, time.April} {
				if got := time.Date(2026, month, 1, 0, 0, 0, 0, c.Location).UTC(); !got.Equal(tt.midnight[i]) {
					t.Errorf("1 %v 00:00 in %s = %v UTC, want %v", month, tt.zone, got, tt.midnight[i])
				}
			}
		})
	}
}
