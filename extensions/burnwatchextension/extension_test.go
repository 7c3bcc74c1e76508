package burnwatchextension

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/extension/extensiontest"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func newExtension(t *testing.T, change func(*Config)) *burnwatch {
	t.Helper()
	cfg := NewFactory().CreateDefaultConfig().(*Config)
	cfg.Files = []string{"testdata/specs.yaml"}
	cfg.Alerting.Console = false
	cfg.HTTP.NetAddr.Endpoint = "127.0.0.1:0"
	if change != nil {
		change(cfg)
	}
	ext, err := NewFactory().Create(context.Background(), extensiontest.NewNopSettings(Type), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return ext.(*burnwatch)
}

func TestLifecycle(t *testing.T) {
	t.Run("start and shut down twice", func(t *testing.T) {
		e := newExtension(t, func(c *Config) { c.Storage.Directory = t.TempDir() })
		if err := e.Start(context.Background(), componenttest.NewNopHost()); err != nil {
			t.Fatal(err)
		}
		for range 2 {
			if err := e.Shutdown(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
	})
	t.Run("shut down without start", func(t *testing.T) {
		if err := newExtension(t, nil).Shutdown(context.Background()); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("endpoint in use", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		e := newExtension(t, func(c *Config) { c.HTTP.NetAddr.Endpoint = ln.Addr().String() })
		if err := e.Start(context.Background(), componenttest.NewNopHost()); err == nil || !strings.Contains(err.Error(), "listen on") {
			t.Errorf("Start on a busy port = %v, want a listen error", err)
		}
		if err := e.Shutdown(context.Background()); err != nil {
			t.Fatal(err)
		}
	})
}

// TestBrokenSpecsFailCreation: the spec files are loaded when the
// collector creates the extension, so a broken one stops startup with its
// file:line message.
func TestBrokenSpecsFailCreation(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files []string
		want  string
	}{
		{"broken file", []string{"testdata/flows.yaml", "testdata/broken/slos.yaml"},
			"burnwatch: files: testdata/broken/slos.yaml:6: spec.target: 120 is not a percentage in (0, 100)"},
		{"no match", []string{"testdata/nope-*.yaml"}, `burnwatch: files: specs: "testdata/nope-*.yaml" matches no files`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := NewFactory().CreateDefaultConfig().(*Config)
			cfg.Files = tc.files
			_, err := NewFactory().Create(context.Background(), extensiontest.NewNopSettings(Type), cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Create error = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestServesMetrics(t *testing.T) {
	e := newExtension(t, nil)
	if err := e.Start(context.Background(), componenttest.NewNopHost()); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = e.Shutdown(context.Background()) }()
	resp, err := http.Get("http://" + e.addr.String() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{"burnwatch_storage_durable 0", "go_goroutines", `burnwatch_spans_classified_total{flow="checkout"} 0`} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %q:\n%s", want, body)
		}
	}
}

func TestFindApp(t *testing.T) {
	e := newExtension(t, nil)
	host := hostWith{DefaultID: e, component.MustNewID("other"): nopExtension{}}
	a, err := FindApp(host, DefaultID)
	if err != nil || a != e.App() {
		t.Fatalf("FindApp = %v, %v", a, err)
	}
	if _, err := FindApp(host, component.MustNewIDWithName("burnwatch", "missing")); err == nil || !strings.Contains(err.Error(), "is not configured") {
		t.Errorf("missing extension: %v", err)
	}
	if _, err := FindApp(host, component.MustNewID("other")); err == nil || !strings.Contains(err.Error(), "not a burnwatch extension") {
		t.Errorf("other extension: %v", err)
	}
}

type hostWith map[component.ID]component.Component

func (h hostWith) GetExtensions() map[component.ID]component.Component { return h }

type nopExtension struct{}

func (nopExtension) Start(context.Context, component.Host) error { return nil }
func (nopExtension) Shutdown(context.Context) error              { return nil }
