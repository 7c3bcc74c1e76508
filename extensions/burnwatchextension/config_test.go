package burnwatchextension

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/confmaptest"

	"github.com/burnwatch/burnwatch/app"
)

func TestLoadConfig(t *testing.T) {
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		id        string
		unmarshal string // error decoding the section
		validate  string // error from validation
		contains  string // and another part of it
		check     func(t *testing.T, c *Config)
	}{
		{id: "", check: func(t *testing.T, c *Config) {
			if c.EvaluationInterval != time.Second || c.AllowedLateness != 2*time.Minute || !c.Alerting.Console ||
				c.Alerting.RepeatInterval != 4*time.Hour || c.HTTP.NetAddr.Endpoint != "localhost:9464" || !c.ProcessMetrics ||
				c.Storage.Acknowledge != app.AckAlways {
				t.Errorf("defaults not applied: %+v", c)
			}
		}},
		{id: "full", check: func(t *testing.T, c *Config) {
			if c.EvaluationInterval != 500*time.Millisecond || c.MaxFlows != 100 || c.Alerting.KeepFiringFor != 2*time.Minute ||
				len(c.Alerting.Webhooks) != 2 || c.Storage.Acknowledge != app.AckDurable || c.Storage.WALSegmentSize != 16<<20 || c.Storage.History.MaxSize != -1 || c.HTTP.NetAddr.Endpoint != "0.0.0.0:9464" || c.ProcessMetrics {
				t.Errorf("full config decoded as %+v", c)
			}
			// The token never shows when the config is printed.
			if s := fmt.Sprintf("%+v %#v", c, c); strings.Contains(s, "s3cr3t-token") {
				t.Errorf("config formatting leaks the bearer token: %s", s)
			}
		}},
		{id: "routing", check: func(t *testing.T, c *Config) {
			a := c.Alerting
			if len(a.Receivers) != 4 || a.Route == nil || a.Route.GroupWait == nil || *a.Route.GroupWait != 30*time.Second ||
				len(a.Route.Routes) != 2 || a.Route.Routes[0].RepeatInterval == nil || *a.Route.Routes[0].RepeatInterval != 24*time.Hour ||
				a.Route.Routes[0].GroupWait != nil || !a.Route.Routes[1].Continue || len(a.InhibitRules) != 1 || len(a.TimeIntervals) != 1 ||
				a.Delivery.MaxPending != 500 || a.Delivery.ShutdownTimeout != 3*time.Second || !a.DefaultInhibitRules {
				t.Errorf("routing config decoded as %+v", a)
			}
			if r := a.Receivers[1]; r.SendResolved == nil || *r.SendResolved || r.Slack == nil || r.Templates.Summary == "" {
				t.Errorf("chat receiver decoded as %+v", r)
			}
			if s := fmt.Sprintf("%+v %#v", c, c); strings.Contains(s, "0123456789abcdef0123456789abcdef") || strings.Contains(s, "B000/XXXX") {
				t.Errorf("config formatting leaks a secret: %s", s)
			}
			cc, err := clientConfig(a.Receivers[0].HTTP)
			if err != nil || cc.Timeout != 5*time.Second {
				t.Errorf("http settings %+v, %v", cc, err)
			}
		}},
		{id: "receiver_two_kinds", validate: "alerting.receivers[0]: set exactly one of console, webhook, pagerduty, teams, slack (got [webhook slack])"},
		{id: "route_unknown_receiver", validate: `alerting.route.routes[0].receiver: "pager" is not a receiver`},
		{id: "bad_http", validate: "alerting.receivers[0].http: ", contains: "timeoutt"},
		{id: "bad_template", validate: "alerting.receivers[0]: templates.summary: ", contains: "NoSuchField"},
		{id: "no_files", validate: "files: at least one spec file"},
		{id: "bad_interval", validate: "evaluation_interval: 0s must be positive"},
		{id: "bad_webhook", validate: "alerting.webhooks[0]: url: want http:// or https://"},
		{id: "duplicate_webhook", validate: `alerting.webhooks[1].name: "a" is used twice`},
		{id: "durable_in_memory", validate: "storage.acknowledge: durable needs storage.directory"},
		{id: "unknown_key", unmarshal: "evaluation_intervall"},
		{id: "agent", check: func(t *testing.T, c *Config) {
			if c.Mode != app.ModeAgent || c.Agent.Interval != 2*time.Second || c.Agent.MaxPending != 30 {
				t.Errorf("agent config decoded as %q %+v", c.Mode, c.Agent)
			}
		}},
		{id: "agent_with_storage", validate: "storage.directory: an agent keeps no state"},
		{id: "bad_mode", validate: `mode: "gateway" is not one of standalone, agent`},
	}
	for _, tc := range tests {
		t.Run("burnwatch/"+tc.id, func(t *testing.T) {
			sub, err := cm.Sub(component.NewIDWithName(Type, tc.id).String())
			if err != nil {
				t.Fatal(err)
			}
			cfg := NewFactory().CreateDefaultConfig()
			err = sub.Unmarshal(cfg)
			if tc.unmarshal != "" {
				if err == nil || !strings.Contains(err.Error(), tc.unmarshal) {
					t.Fatalf("unmarshal error = %v, want it to mention %q", err, tc.unmarshal)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			err = confmap.Validate(cfg)
			if tc.validate != "" {
				if err == nil || !strings.Contains(err.Error(), tc.validate) || !strings.Contains(err.Error(), tc.contains) {
					t.Fatalf("validate error = %v, want it to contain %q and %q", err, tc.validate, tc.contains)
				}
				if n := strings.Count(err.Error(), tc.validate); n != 1 {
					t.Errorf("the error is reported %d times: %v", n, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, cfg.(*Config))
		})
	}
}
