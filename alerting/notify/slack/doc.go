// Package slack is a Slack notifier: it POSTs each group notification as one
// message to a Slack incoming webhook, laid out with Block Kit inside an
// attachment whose colour bar tells the group's state (red while a page
// fires, amber while only tickets fire, green once resolved).
//
// The message has a header, a section per alert (its summary and
// description, and fields for the objective, burn rates, budget left, time
// to exhaustion, events and since when), a context line with its trace IDs
// and labels, and buttons for the runbooks, dashboards and the Burnwatch
// page. Alert texts come from notify.Message, so a receiver's templates
// apply; mrkdwn texts are escaped (&, <, >) so alert text cannot mention
// @channel or forge links.
//
// Slack rejects a message over its Block Kit limits, so every text is cut
// to its limit, and alerts that do not fit in MaxBlocks blocks or
// MaxBlockText characters of block text are left out, firing ones kept
// first, and counted in a closing "…and N more alerts".
//
// The webhook URL is a credential (its path is the token), so it is a
// notify.Secret: errors and formatted configs show only its scheme and host.
// Responses are classified by notify.CheckResponse: Slack answers 200 "ok";
// 400 invalid_payload, 403, 404 and 410 are permanent; 429 and 5xx are
// retried.
package slack
