package alertmanager

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/burnwatch/burnwatch/alerting"
)

func TestCheck(t *testing.T) {
	ok := Config{URLs: []string{"http://am-0:9093"}}
	tests := []struct {
		name string
		cfg  func(*Config)
		want []string // each error line, in order; none for a valid config
	}{
		{"minimal", func(*Config) {}, nil},
		{"full", func(c *Config) {
			*c = Config{URLs: []string{"http://am-0:9093", "https://burnwatch:s3cr3tpass@am.example.com/alertmanager/"},
				ResendInterval: 30 * time.Second, ResolvedTTL: time.Hour, Timeout: time.Second, ExternalURL: "https://burnwatch.example.com/"}
		}, nil},
		{"urls missing", func(c *Config) { c.URLs = nil },
			[]string{"urls: required, the base URL of each Alertmanager (http://alertmanager:9093)"}},
		{"url without scheme", func(c *Config) { c.URLs = []string{"am-0:9093"} },
			[]string{"urls[0]: want http:// or https:// with a host, got am-0:9093"}},
		{"url not http, with credentials", func(c *Config) { c.URLs = append(c.URLs, "ftp://burnwatch:s3cr3tpass@am-1:9093/") },
			[]string{"urls[1]: want http:// or https:// with a host, got ftp://[REDACTED]@am-1:9093/"}},
		{"url unparsable, with credentials", func(c *Config) { c.URLs = []string{"http://burnwatch:s3cr3tpass@am-0:9093/%zz"} },
			[]string{"urls[0]: [REDACTED] is not a valid URL"}},
		{"url with a fragment", func(c *Config) { c.URLs = []string{"http://am-0:9093/#/alerts"} },
			[]string{"urls[0]: http://am-0:9093/?[REDACTED] has a fragment; give the base URL only"}},
		{"same Alertmanager twice", func(c *Config) { c.URLs = []string{"http://am-0:9093", "http://am-1:9093", "http://am-0:9093/"} },
			[]string{"urls[2]: http://am-0:9093/ is urls[0] again"}},
		{"negative durations", func(c *Config) { c.ResendInterval, c.ResolvedTTL, c.Timeout = -time.Second, -time.Minute, -1 },
			[]string{"resend_interval: -1s is negative", "resolved_ttl: -1m0s is negative", "timeout: -1ns is negative"}},
		{"external_url relative", func(c *Config) { c.ExternalURL = "burnwatch.example.com" },
			[]string{`external_url: want an absolute URL such as https://burnwatch.example.com/, got "burnwatch.example.com"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := ok
			tt.cfg(&cfg)
			err := cfg.Check()
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("Check() = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Check() = nil, want %q", tt.want)
			}
			if got := strings.Split(err.Error(), "\n"); strings.Join(got, "|") != strings.Join(tt.want, "|") {
				t.Errorf("Check() =\n%s\nwant\n%s", err, strings.Join(tt.want, "\n"))
			}
			if _, err := New(cfg, nil); err == nil || !strings.Contains(err.Error(), tt.want[0]) {
				t.Errorf("New = %v, want Check's error", err)
			}
		})
	}
}

func TestEndpoint(t *testing.T) {
	tests := []struct{ base, want string }{
		{"http://am-0:9093", "http://am-0:9093/api/v2/alerts"},
		{"http://am-0:9093/", "http://am-0:9093/api/v2/alerts"},
		{"https://am.example.com/alertmanager", "https://am.example.com/alertmanager/api/v2/alerts"},
		{"https://am.example.com/alertmanager/", "https://am.example.com/alertmanager/api/v2/alerts"},
		{"https://user:pass@am.example.com/am?tenant=a", "https://am.example.com/am/api/v2/alerts?tenant=a"},
	}
	for _, tt := range tests {
		u, err := parseBase(tt.base)
		if err != nil {
			t.Fatal(err)
		}
		if got := endpoint(u).String(); got != tt.want {
			t.Errorf("endpoint(%s) = %s, want %s", tt.base, got, tt.want)
		}
	}
}

// TestSecrets: credentials and the query of a URL reach the Alertmanager
// (as basic auth and as is) and nothing else: not errors, reports, stats
// or formatted output.
func TestSecrets(t *testing.T) {
	const pass, token = "s3cr3tpass", "t0k3nvalue"
	cfg := Config{URLs: []string{
		"http://burnwatch:" + pass + "@" + am0 + "/am/?tenant=" + token,
		"http://burnwatch:" + pass + "@" + am1,                     // answers 500
		"http://burnwatch:" + pass + "@am-9:9093/?tenant=" + token, // not on the network
	}}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x", "%d", "%q"} {
		if s := fmt.Sprintf(verb, cfg); strings.Contains(s, pass) || strings.Contains(s, token) {
			t.Errorf("%s of the config shows a secret: %s", verb, s)
		}
	}
	if s := cfg.String(); !strings.Contains(s, `"http://[REDACTED]@am-0:9093/am/?[REDACTED]"`) {
		t.Errorf("String() = %s, want each URL's scheme, host and path", s)
	}
	synctest.Test(t, func(t *testing.T) {
		rec := &recorder{}
		sick := &recorder{responses: []func(http.ResponseWriter){respond(http.StatusInternalServerError, nil, "boom")}}
		client := serveBubble(t, map[string]http.Handler{am0: rec, am1: sick})
		var rep attempts
		p := newPusher(t, cfg, client, Options{OnAttempt: rep.add})
		p.Start()
		p.Update(time.Now(), []alerting.Alert{alertNow("page-fast")}, nil)
		synctest.Wait()
		if err := p.Close(context.Background()); err != nil {
			t.Fatal(err)
		}

		reqs := rec.Requests()
		if len(reqs) != 1 {
			t.Fatalf("got %d requests, want 1", len(reqs))
		}
		auth := "Basic " + base64.StdEncoding.EncodeToString([]byte("burnwatch:"+pass))
		if reqs[0].path != "/am/api/v2/alerts" || reqs[0].header.Get("Authorization") != auth {
			t.Errorf("POST %s with %q, want /am/api/v2/alerts with basic auth", reqs[0].path, reqs[0].header.Get("Authorization"))
		}

		rep.mu.Lock()
		defer rep.mu.Unlock()
		if len(rep.all) != 3 {
			t.Fatalf("got %d attempts, want one per Alertmanager", len(rep.all))
		}
		failed := 0
		for _, a := range rep.all {
			s := fmt.Sprintf("%s %v %+v", a.URL, a.Err, a)
			if strings.Contains(s, pass) || strings.Contains(s, token) || strings.Contains(s, "burnwatch:") {
				t.Errorf("attempt shows a secret: %s", s)
			}
			if a.Err != nil {
				failed++
			}
		}
		if failed != 2 {
			t.Errorf("%d attempts failed, want 2 (500, no such host)", failed)
		}
		for _, st := range p.Stats() {
			if strings.Contains(st.URL, pass) || strings.Contains(st.URL, token) {
				t.Errorf("stats URL %s shows a secret", st.URL)
			}
		}
		if s := fmt.Sprintf("%v %s", p, p); strings.Contains(s, pass) || strings.Contains(s, token) {
			t.Errorf("pusher formats with a secret: %s", s)
		}
	})
}

// TestAnnotationNames: annotation names Alertmanager would reject become
// label names.
func TestAnnotationNames(t *testing.T) {
	got := annotations(map[string]string{"summary": "s", "on-call": "#payments", "9lives": "x", "on_call": "kept", "ünïcode": "u"})
	want := map[string]string{"summary": "s", "on_call": "kept", "_lives": "x", "__n__code": "u"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("annotations = %v, want %v", got, want)
	}
}
