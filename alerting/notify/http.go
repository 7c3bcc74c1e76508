package notify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"
)

// What every HTTP notifier shares: a client that does not follow redirects,
// URLs that never show their credentials, and one POST with the response
// classified by CheckResponse.

// NoRedirects returns a client that does not follow redirects: a redirected
// POST would lose its body, so the 3xx is reported (and retried) instead.
func NoRedirects() *http.Client {
	return &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// RedactURL keeps the scheme and host of a URL, which say where requests
// go, and hides the rest, which may hold a token (a Slack or Teams webhook
// URL's path or query, user info).
func RedactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		if raw == "" {
			return ""
		}
		return "[REDACTED]"
	}
	s := u.Scheme + "://" + u.Host
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		s += "/[REDACTED]"
	}
	return s
}

// StripURL drops the *url.Error wrapper of a client error, whose text
// quotes the full URL.
func StripURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s: %w", ue.Op, ue.Err)
	}
	return err
}

// CheckURL wants an absolute http or https URL. When secret, its errors
// show only the scheme and host, since url.Parse's errors quote the whole
// URL.
func CheckURL(raw string, secret bool) error {
	if raw == "" {
		return errors.New("must be set")
	}
	shown := raw
	if secret {
		shown = RedactURL(raw)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("%s is not a valid URL", shown)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("want http:// or https:// with a host, got %s", shown)
	}
	return nil
}

// Post sends body as JSON to rawURL within timeout and classifies the
// answer with CheckResponse; errors name the URL as target (redacted) and
// are *DeliveryError: network errors and timeouts are retryable. header,
// when not nil, adds headers.
func Post(ctx context.Context, client *http.Client, rawURL, target string, timeout time.Duration, body []byte, header func(http.Header)) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, rawURL, bytes.NewReader(body))
	if err != nil {
		// The config's check accepted the URL, so this is unexpected; the
		// error's text would quote the URL.
		return Permanent(fmt.Errorf("build request to %s", target))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Burnwatch")
	if header != nil {
		header(req.Header)
	}
	resp, err := client.Do(req)
	if err != nil {
		return Retryable(fmt.Errorf("post to %s: %w", target, StripURL(err)), 0)
	}
	defer func() {
		// Drain a little so the connection can be reused.
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		_ = resp.Body.Close()
	}()
	if err := CheckResponse(resp, time.Now()); err != nil {
		return fmt.Errorf("post to %s: %w", target, err)
	}
	return nil
}

// Redact returns err with the text of every secret replaced by
// [REDACTED], keeping whether and when it may be retried. A receiver's
// error page may quote the request back (a path with its token, an
// Authorization header), and the error goes to the log and the history.
// Secrets shorter than four bytes are left alone: they would blank words.
func Redact(err error, secrets ...string) error {
	if err == nil {
		return nil
	}
	text := err.Error()
	changed := false
	for _, s := range secrets {
		if len(s) >= 4 && strings.Contains(text, s) {
			text = strings.ReplaceAll(text, s, redacted)
			changed = true
		}
	}
	if !changed {
		return err
	}
	retryable, after := IsRetryable(err)
	return &DeliveryError{Retryable: retryable, RetryAfter: after, Err: errors.New(text)}
}

// URLSecrets are the parts of a URL that may hold a token: its user info,
// path segments and query values (a Slack or Teams webhook's path, a
// ?token=), for Redact.
func URLSecrets(raw string) []string {
	u, err := url.Parse(raw)
	if err != nil {
		return []string{raw}
	}
	var out []string
	if u.User != nil {
		out = append(out, u.User.String(), u.User.Username())
		if p, ok := u.User.Password(); ok {
			out = append(out, p)
		}
	}
	if u.Path != "" && u.Path != "/" {
		out = append(out, u.EscapedPath(), u.Path)
		out = append(out, strings.Split(strings.Trim(u.Path, "/"), "/")...)
	}
	if u.RawQuery != "" {
		out = append(out, u.RawQuery)
		for _, vs := range u.Query() {
			out = append(out, vs...)
		}
	}
	// Longest first, so a whole path is replaced before its segments.
	sort.Slice(out, func(i, j int) bool { return len(out[i]) > len(out[j]) })
	return out
}
