package selfmetricsextension

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/VictoriaMetrics/metrics"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/extension/extensiontest"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestServesOnEndpoint(t *testing.T) {
	set := metrics.NewSet()
	set.NewCounter("burnwatch_test_marker_total").Add(7)
	metrics.RegisterSet(set)
	defer metrics.UnregisterSet(set, true)

	ext, err := NewFactory().Create(context.Background(), extensiontest.NewNopSettings(Type), &Config{Endpoint: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	srv := ext.(*server)
	if err := srv.Start(context.Background(), componenttest.NewNopHost()); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := srv.Shutdown(context.Background()); err != nil {
			t.Error(err)
		}
		if err := srv.Shutdown(context.Background()); err != nil {
			t.Error("second shutdown:", err)
		}
	}()
	resp, err := http.Get("http://" + srv.addr.String() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "burnwatch_test_marker_total 7") {
		t.Fatalf("metrics page lacks the marker:\n%s", body)
	}
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		endpoint, want string
	}{
		{"", "endpoint: required"},
		{"nohostport", "endpoint: \"nohostport\" is not host:port"},
		{"localhost:9464", ""},
	} {
		err := (&Config{Endpoint: tc.endpoint}).Validate()
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("Validate(%q) = %v, want %q", tc.endpoint, err, tc.want)
		}
	}
}
