package notify

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestIsRetryable(t *testing.T) {
	base := errors.New("boom")
	tests := []struct {
		name      string
		err       error
		retryable bool
		after     time.Duration
	}{
		{"nil", nil, false, 0},
		{"plain", base, true, 0},
		{"permanent", Permanent(base), false, 0},
		{"wrapped permanent", fmt.Errorf("post: %w", Permanent(base)), false, 0},
		{"retry after", fmt.Errorf("post: %w", Retryable(base, 3*time.Second)), true, 3 * time.Second},
		{"negative retry after", Retryable(base, -time.Second), true, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, a := IsRetryable(tt.err)
			if r != tt.retryable || a != tt.after {
				t.Errorf("IsRetryable = %v, %v; want %v, %v", r, a, tt.retryable, tt.after)
			}
			if tt.err != nil && !errors.Is(tt.err, base) {
				t.Errorf("%v does not unwrap to its cause", tt.err)
			}
		})
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"120", 2 * time.Minute, true},
		{" 5 ", 5 * time.Second, true},
		{"0", 0, true},
		{"Sun, 01 Mar 2026 12:01:30 GMT", 90 * time.Second, true},
		{"Sunday, 01-Mar-26 12:00:10 GMT", 10 * time.Second, true}, // RFC 850
		{"Sun, 01 Mar 2026 11:00:00 GMT", 0, true},                 // past
		{"99999999999999999999999", time.Duration(1<<63 - 1), true},
		{"", 0, false},
		{"-1", 0, false},
		{"1.5", 0, false},
		{"soon", 0, false},
	}
	for _, tt := range tests {
		got, ok := ParseRetryAfter(tt.in, now)
		if got != tt.want || ok != tt.ok {
			t.Errorf("ParseRetryAfter(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestCheckResponse(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		code       int
		retryAfter string
		body       string
		wantErr    bool
		retryable  bool
		after      time.Duration
		wantText   string
	}{
		{code: 200},
		{code: 202},
		{code: 204},
		{code: 408, wantErr: true, retryable: true, wantText: "unexpected status 408 Request Timeout"},
		{code: 429, retryAfter: "30", body: `{"error":"slow down"}`, wantErr: true, retryable: true, after: 30 * time.Second, wantText: `unexpected status 429 Too Many Requests: "{\"error\":\"slow down\"}"`},
		{code: 500, wantErr: true, retryable: true, wantText: "500 Internal Server Error"},
		{code: 503, retryAfter: "Sun, 01 Mar 2026 12:00:07 GMT", wantErr: true, retryable: true, after: 7 * time.Second},
		{code: 400, body: "bad payload\n", wantErr: true, wantText: `unexpected status 400 Bad Request: "bad payload"`},
		{code: 401, retryAfter: "30", wantErr: true}, // Retry-After only matters when retrying
		{code: 404, wantErr: true},
		{code: 301, wantErr: true, retryable: true},
		{code: 302, wantErr: true, retryable: true, wantText: "unexpected status 302 Found"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.code), func(t *testing.T) {
			resp := &http.Response{StatusCode: tt.code, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(tt.body))}
			if tt.retryAfter != "" {
				resp.Header.Set("Retry-After", tt.retryAfter)
			}
			err := CheckResponse(resp, now)
			if (err != nil) != tt.wantErr {
				t.Fatalf("CheckResponse = %v, want error %v", err, tt.wantErr)
			}
			if err == nil {
				return
			}
			var de *DeliveryError
			if !errors.As(err, &de) || de.Retryable != tt.retryable || de.RetryAfter != tt.after {
				t.Errorf("CheckResponse = %#v, want retryable %v after %v", err, tt.retryable, tt.after)
			}
			if !strings.Contains(err.Error(), tt.wantText) {
				t.Errorf("error %q does not contain %q", err, tt.wantText)
			}
		})
	}
}

func TestCheckResponseBoundsExcerpt(t *testing.T) {
	body := "<html>" + strings.Repeat("é", 5000) + "\x00\x1b[31m</html>"
	resp := &http.Response{StatusCode: 502, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(body))}
	err := CheckResponse(resp, time.Now())
	if err == nil {
		t.Fatal("CheckResponse = nil for 502")
	}
	msg := err.Error()
	if len(msg) > 300 {
		t.Errorf("error is %d bytes, want a bounded excerpt: %s", len(msg), msg)
	}
	if !strings.Contains(msg, "<html>é") || !strings.Contains(msg, "…") {
		t.Errorf("error %q lacks the start of the body or the cut mark", msg)
	}
}

func TestSecretRedacted(t *testing.T) {
	type config struct {
		Token   Secret
		Headers map[string]Secret
	}
	c := config{Token: "s3cr3t-token", Headers: map[string]Secret{"X-Api-Key": "s3cr3t-key"}}
	var outs []string
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d"} {
		outs = append(outs, fmt.Sprintf(verb, c), fmt.Sprintf(verb, c.Token))
	}
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	outs = append(outs, string(b), c.Token.String(), c.Token.GoString())
	for _, o := range outs {
		if strings.Contains(o, "s3cr3t") {
			t.Errorf("secret leaked: %s", o)
		}
	}
	if !strings.Contains(string(b), redacted) {
		t.Errorf("json %s does not show the redaction mark", b)
	}
	if Secret("").String() != "" {
		t.Errorf("empty secret renders as %q, want empty", Secret("").String())
	}
	if string(c.Token) != "s3cr3t-token" {
		t.Error("conversion does not give the value back")
	}
}
