package notify

import (
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// maxExcerpt bounds the response body quoted in an error, so a receiver
// answering with a large HTML page cannot flood the host's log.
const maxExcerpt = 200

// CheckResponse classifies an HTTP notifier's response the way every
// HTTP notifier should: 2xx is delivered (nil); 3xx, 408, 429 and 5xx are
// retryable and honour Retry-After (seconds or an HTTP date, relative to
// now); any other 4xx is permanent. A redirect is never a delivery
// (following it would turn the POST into a GET and lose the body), and it is
// retried: a receiver behind a moved or misconfigured endpoint gets the
// alert once it is fixed, and each attempt's error names the status. The error names the status
// and quotes a short excerpt of the body. It reads at most a few hundred
// bytes of the body and does not close it.
func CheckResponse(resp *http.Response, now time.Time) error {
	code := resp.StatusCode
	if code >= 200 && code <= 299 {
		return nil
	}
	err := fmt.Errorf("unexpected status %d %s%s", code, http.StatusText(code), bodyExcerpt(resp.Body))
	if (code >= 300 && code <= 399) || code == http.StatusRequestTimeout || code == http.StatusTooManyRequests || code >= 500 {
		after, _ := ParseRetryAfter(resp.Header.Get("Retry-After"), now)
		return &DeliveryError{Retryable: true, RetryAfter: after, Err: err}
	}
	return &DeliveryError{Err: err}
}

// bodyExcerpt returns ": " and the start of body, quoted, with control
// characters dropped; "" when the body is empty or unreadable.
func bodyExcerpt(body io.Reader) string {
	if body == nil {
		return ""
	}
	// Read a little more than shown, for whole UTF-8 sequences.
	buf, _ := io.ReadAll(io.LimitReader(body, maxExcerpt+utf8.UTFMax))
	s := strings.TrimSpace(strings.ToValidUTF8(string(buf), "\uFFFD"))
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	if s == "" {
		return ""
	}
	if len(s) > maxExcerpt {
		cut := maxExcerpt
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return ": " + strconv.Quote(s)
}

// ParseRetryAfter parses a Retry-After header value: delay-seconds or an
// HTTP date (RFC 9110 10.2.3), as a wait from now. A date in the past is a
// wait of 0. ok is false when v is empty or malformed.
func ParseRetryAfter(v string, now time.Time) (wait time.Duration, ok bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if v[0] >= '0' && v[0] <= '9' {
		secs, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			if ne, isNum := err.(*strconv.NumError); isNum && ne.Err == strconv.ErrRange {
				return time.Duration(math.MaxInt64), true
			}
			return 0, false
		}
		if secs > uint64(math.MaxInt64/int64(time.Second)) {
			return time.Duration(math.MaxInt64), true
		}
		return time.Duration(secs) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	return max(t.Sub(now), 0), true
}
