package e2e

import (
	"fmt"
	"slices"
	"testing"
	"time"
)

// TestRoutingBySeverity sends pages to the pager and tickets to the ticket
// queue, and everything of a team matching pay.* also to that team (a route
// with continue: true before the severity routes). Default inhibition is
// off so that each tier's route shows (inhibition has its own test).
//
//	0s  pay-api fails (team payments): page and ticket fire
//	    pager:    pay-api/page         payments: pay-api page+ticket
//	    tickets:  pay-api/ticket
//	2s  search fails (team search)
//	    pager:    search/page          tickets:  search/ticket
//	4s  both recover; 2 s hold later every group above is sent resolved
func TestRoutingBySeverity(t *testing.T) {
	t.Parallel()
	sinks := map[string]*sink{"pager": newSink(t), "tickets": newSink(t), "payments": newSink(t)}
	alerting := hookReceivers(sinks) + `      route:
        receiver: pager
        group_by: [slo]
        routes:
          - {matchers: ['team=~"pay.*"'], receiver: payments, continue: true}
          - {matchers: ['severity="page"'], receiver: pager}
          - {matchers: ['severity="ticket"'], receiver: tickets}
      default_inhibit_rules: false
` + quickDelivery
	specs := acceptanceSpecs(
		acceptanceSLO{name: "pay-api", labels: "{team: payments}", tiers: []string{pageTier, ticketTier}},
		acceptanceSLO{name: "search", labels: "{team: search}", tiers: []string{pageTier, ticketTier}})
	d := startDaemonWith(t, &daemonConfig{specs: specs, alerting: alerting})
	exp := newExporter(t, d.grpc)
	waitWarm(t, d, 2)

	tl := startTimeline(t)
	pager, tickets, payments := tl.receiver("pager", sinks["pager"]), tl.receiver("tickets", sinks["tickets"]), tl.receiver("payments", sinks["payments"])
	const pageKey, ticketKey, teamKey = `{}/{severity="page"}`, `{}/{severity="ticket"}`, `{}/{team=~"pay.*"}`

	exp.send(t, outageSpans("pay-api"))
	pager.expect(0, notifyWithin, "firing", pageKey+`:{slo="pay-api"}`, "pay-api/page/firing")
	tickets.expect(0, notifyWithin, "firing", ticketKey+`:{slo="pay-api"}`, "pay-api/ticket/firing")
	payments.expect(0, notifyWithin, "firing", teamKey+`:{slo="pay-api"}`, "pay-api/page/firing", "pay-api/ticket/firing")

	tl.at(2 * time.Second)
	exp.send(t, outageSpans("search"))
	pager.expect(2*time.Second, 2*time.Second+notifyWithin, "firing", pageKey+`:{slo="search"}`, "search/page/firing")
	tickets.expect(2*time.Second, 2*time.Second+notifyWithin, "firing", ticketKey+`:{slo="search"}`, "search/ticket/firing")

	tl.at(4 * time.Second)
	exp.send(t, append(recoverySpans("pay-api"), recoverySpans("search")...))
	from, to := 4*time.Second+tierHold, 4*time.Second+tierHold+notifyWithin
	pager.expect(from, to, "resolved", pageKey+`:{slo="pay-api"}`, "pay-api/page/resolved")
	pager.expect(from, to, "resolved", pageKey+`:{slo="search"}`, "search/page/resolved")
	tickets.expect(from, to, "resolved", ticketKey+`:{slo="pay-api"}`, "pay-api/ticket/resolved")
	tickets.expect(from, to, "resolved", ticketKey+`:{slo="search"}`, "search/ticket/resolved")
	payments.expect(from, to, "resolved", teamKey+`:{slo="pay-api"}`, "pay-api/page/resolved", "pay-api/ticket/resolved")

	tl.finish(time.Second)
}

// TestGroupingAndGroupWait routes the pages of two SLOs of one team twice:
// grouped by team with a group_wait of 2 s, and grouped by SLO without one.
//
//	0s  cart fails          by-slo: cart
//	1s  pay fails           by-slo: pay
//	2s  group_wait ends     by-team: one notification with cart and pay
//	                        (nothing before: the group waited for pay)
//	3s  cart recovers       by-team: firing, cart resolved and pay firing
//	                        (a group fires while any of its alerts does)
//	                        by-slo: cart resolved
//	6s  pay recovers        by-team: resolved, pay;  by-slo: pay resolved
func TestGroupingAndGroupWait(t *testing.T) {
	t.Parallel()
	sinks := map[string]*sink{"by-team": newSink(t), "by-slo": newSink(t)}
	alerting := hookReceivers(sinks) + `      route:
        receiver: by-team
        group_by: [team]
        group_wait: 2s
        routes:
          - {matchers: ['severity="page"'], receiver: by-team, continue: true}
          - {matchers: ['severity="page"'], receiver: by-slo, group_by: [slo], group_wait: 0s}
` + quickDelivery
	specs := acceptanceSpecs(
		acceptanceSLO{name: "cart", labels: "{team: checkout}", tiers: []string{pageTier}},
		acceptanceSLO{name: "pay", labels: "{team: checkout}", tiers: []string{pageTier}})
	d := startDaemonWith(t, &daemonConfig{specs: specs, alerting: alerting})
	exp := newExporter(t, d.grpc)
	waitWarm(t, d, 2)

	tl := startTimeline(t)
	byTeam, bySLO := tl.receiver("by-team", sinks["by-team"]), tl.receiver("by-slo", sinks["by-slo"])
	const teamKey, sloKey = `{}/{severity="page"}:{team="checkout"}`, `{}/{severity="page"}:`

	exp.send(t, outageSpans("cart"))
	bySLO.expect(0, notifyWithin, "firing", sloKey+`{slo="cart"}`, "cart/page/firing")
	tl.at(time.Second)
	exp.send(t, outageSpans("pay"))
	bySLO.expect(time.Second, time.Second+notifyWithin, "firing", sloKey+`{slo="pay"}`, "pay/page/firing")
	// The group began when cart fired (after 0 s): not sent before 2 s.
	byTeam.expect(2*time.Second, 2*time.Second+notifyWithin, "firing", teamKey, "cart/page/firing", "pay/page/firing")

	tl.at(3 * time.Second)
	exp.send(t, recoverySpans("cart"))
	byTeam.expect(3*time.Second+tierHold, 3*time.Second+tierHold+notifyWithin, "firing", teamKey, "cart/page/resolved", "pay/page/firing")
	bySLO.expect(3*time.Second+tierHold, 3*time.Second+tierHold+notifyWithin, "resolved", sloKey+`{slo="cart"}`, "cart/page/resolved")

	tl.at(6 * time.Second)
	exp.send(t, recoverySpans("pay"))
	byTeam.expect(6*time.Second+tierHold, 6*time.Second+tierHold+notifyWithin, "resolved", teamKey, "pay/page/resolved")
	bySLO.expect(6*time.Second+tierHold, 6*time.Second+tierHold+notifyWithin, "resolved", sloKey+`{slo="pay"}`, "pay/page/resolved")

	tl.finish(time.Second)
}

// TestInhibitionTicketByPage: with the default inhibit rule, a firing page
// mutes the ticket of its own SLO, not another SLO's.
//
//	0s  orders fails: page and ticket fire; the page is sent, the ticket
//	    is held back (the alerts API shows it suppressed, inhibited by the
//	    page)
//	2s  stock burns 5x: its ticket fires and is sent although orders' page
//	    fires
//	4s  orders burns 10x: its page stops holding, resolves after its hold
//	    and only then is orders' ticket sent
func TestInhibitionTicketByPage(t *testing.T) {
	t.Parallel()
	sinks := map[string]*sink{"all": newSink(t)}
	alerting := hookReceivers(sinks) + `      route: {receiver: all, group_by: [slo, tier]}
` + quickDelivery
	specs := acceptanceSpecs(
		acceptanceSLO{name: "orders", tiers: []string{pageTier, ticketTier}},
		acceptanceSLO{name: "stock", tiers: []string{pageTier, ticketTier}})
	d := startDaemonWith(t, &daemonConfig{specs: specs, alerting: alerting})
	exp := newExporter(t, d.grpc)
	waitWarm(t, d, 2)

	tl := startTimeline(t)
	all := tl.receiver("all", sinks["all"])
	key := func(slo, tier string) string { return fmt.Sprintf(`{}:{slo=%q,tier=%q}`, slo, tier) }

	exp.send(t, outageSpans("orders"))
	all.expect(0, notifyWithin, "firing", key("orders", "page"), "orders/page/firing")
	// Both fire; the API tells why the ticket waits.
	base := "http://" + d.metrics
	var page, ticket amAlert
	if !waitUntil(time.Now().Add(notifyWithin), func() bool {
		as := amAlerts(t, base, "")
		var ok1, ok2 bool
		page, ok1 = findAlert(as, "orders", "page")
		ticket, ok2 = findAlert(as, "orders", "ticket")
		return ok1 && ok2
	}) {
		t.Fatalf("orders' page and ticket not both in /api/v2/alerts: %+v", amAlerts(t, base, ""))
	}
	if page.Status.State != "active" || len(page.Status.InhibitedBy) != 0 {
		t.Errorf("orders' page: %+v, want active and not inhibited", page.Status)
	}
	if ticket.Status.State != "suppressed" || !slices.Equal(ticket.Status.InhibitedBy, []string{page.Fingerprint}) {
		t.Errorf("orders' ticket: %+v, want suppressed, inhibited by the page %s", ticket.Status, page.Fingerprint)
	}

	tl.at(2 * time.Second)
	exp.send(t, flowSpans("stock", 19, 1))
	all.expect(2*time.Second, 2*time.Second+notifyWithin, "firing", key("stock", "ticket"), "stock/ticket/firing")

	tl.at(4 * time.Second)
	exp.send(t, flowSpans("orders", 90, 10))
	from, to := 4*time.Second+tierHold, 4*time.Second+tierHold+notifyWithin
	all.expect(from, to, "resolved", key("orders", "page"), "orders/page/resolved")
	all.expect(from, to, "firing", key("orders", "ticket"), "orders/ticket/firing")

	tl.finish(time.Second)
}
