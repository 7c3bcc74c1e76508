package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// dailyTimes writes the times of day from a to b in loc (in whole
// minutes, b less than a day after a) as a time interval's times, split at
// midnight.
func dailyTimes(a, b time.Time, loc *time.Location) string {
	minute := func(t time.Time) int { t = t.In(loc); return t.Hour()*60 + t.Minute() }
	hm := func(m int) string { return fmt.Sprintf("%q", fmt.Sprintf("%02d:%02d", m/60, m%60)) }
	from, to := minute(a), minute(b)+1 // the minute of b included
	var ranges []string
	if from < to {
		ranges = append(ranges, fmt.Sprintf("{start_time: %s, end_time: %s}", hm(from), hm(to)))
	} else {
		ranges = append(ranges, fmt.Sprintf("{start_time: %s, end_time: \"24:00\"}", hm(from)))
		if to > 0 {
			ranges = append(ranges, fmt.Sprintf("{start_time: \"00:00\", end_time: %s}", hm(to)))
		}
	}
	return "[" + strings.Join(ranges, ", ") + "]"
}

// TestMaintenanceWindow routes cart's page to four receivers: one always,
// one whose route mutes during a maintenance interval that covers now
// (from a minute ago to five minutes ahead, written in Asia/Kolkata's
// time, 5:30 ahead of UTC, so that the interval's location must be
// applied), one active only during that interval, and one active only
// during an interval two hours ahead (in UTC, the default).
//
//	0s  cart fails: sent to always and to in-maintenance; the muted route
//	    and the route outside its active interval send nothing
//	2s  cart recovers: the two that were told are told it resolved; the
//	    others still get nothing
func TestMaintenanceWindow(t *testing.T) {
	t.Parallel()
	sinks := map[string]*sink{"always": newSink(t), "muted": newSink(t), "in-maintenance": newSink(t), "off-hours": newSink(t)}
	now := time.Now()
	kolkata, err := time.LoadLocation("Asia/Kolkata")
	if err != nil {
		t.Fatal(err)
	}
	alerting := hookReceivers(sinks) + fmt.Sprintf(`      route:
        receiver: always
        group_by: [slo]
        routes:
          - {matchers: ['slo="cart"'], receiver: always, continue: true}
          - {matchers: ['slo="cart"'], receiver: muted, mute_time_intervals: [maintenance], continue: true}
          - {matchers: ['slo="cart"'], receiver: in-maintenance, active_time_intervals: [maintenance], continue: true}
          - {matchers: ['slo="cart"'], receiver: off-hours, active_time_intervals: [later]}
      time_intervals:
        - name: maintenance
          time_intervals: [{times: %s, location: Asia/Kolkata}]
        - name: later
          time_intervals: [{times: %s}]
`, dailyTimes(now.Add(-time.Minute), now.Add(5*time.Minute), kolkata), dailyTimes(now.Add(2*time.Hour), now.Add(3*time.Hour), time.UTC)) + quickDelivery
	d := startDaemonWith(t, &daemonConfig{specs: acceptanceSpecs(acceptanceSLO{name: "cart", tiers: []string{pageTier}}), alerting: alerting})
	exp := newExporter(t, d.grpc)
	waitWarm(t, d, 1)

	tl := startTimeline(t)
	always, inMaintenance := tl.receiver("always", sinks["always"]), tl.receiver("in-maintenance", sinks["in-maintenance"])
	tl.receiver("muted", sinks["muted"])
	tl.receiver("off-hours", sinks["off-hours"])

	exp.send(t, outageSpans("cart"))
	always.expect(0, notifyWithin, "firing", `{}/{slo="cart"}:{slo="cart"}`, "cart/page/firing")
	inMaintenance.expect(0, notifyWithin, "firing", `{}/{slo="cart"}:{slo="cart"}`, "cart/page/firing")

	tl.at(2 * time.Second)
	exp.send(t, recoverySpans("cart"))
	always.expect(2*time.Second+tierHold, 2*time.Second+tierHold+notifyWithin, "resolved", `{}/{slo="cart"}:{slo="cart"}`, "cart/page/resolved")
	inMaintenance.expect(2*time.Second+tierHold, 2*time.Second+tierHold+notifyWithin, "resolved", `{}/{slo="cart"}:{slo="cart"}`, "cart/page/resolved")

	tl.finish(time.Second)
}
