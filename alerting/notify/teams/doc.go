// Package teams is a Microsoft Teams notifier: it POSTs each group
// notification as one Adaptive Card to a Teams Workflows webhook (the Power
// Automate trigger "When a Teams webhook request is received"), which posts
// it to a channel or chat.
//
// The card has a header coloured by the group's state (attention while a
// page fires, warning while only tickets fire, good once resolved), one
// container per alert with its summary, description and facts (objective,
// burn rates, budget left, time to exhaustion, events, trace IDs), and
// buttons for the runbooks, dashboards and the Burnwatch page. Alert texts
// come from notify.Message, so a receiver's templates apply.
//
// Teams rejects messages over about 28 KB, so the body is bounded by
// MaxBodyBytes whatever the alerts hold: long texts are cut, and alerts that
// still do not fit are left out, firing ones kept first, and counted in a
// closing "…and N more alerts".
//
// The webhook URL is a credential (its query carries the signature), so it
// is a notify.Secret: errors and formatted configs show only its scheme and
// host. Responses are classified by notify.CheckResponse.
package teams
