package app

import (
	"io"
	"net/http"
	"os"
	"testing"
)

func TestZZDump(t *testing.T) {
	a := browserApp(t)
	if _, err := a.alerts.silences.Set(silenceFor("checkout-latency", a.lastAt), a.lastAt); err != nil {
		t.Fatal(err)
	}
	base := apiServer(t, a, HandlerOptions{Version: "0.1.0"})
	for _, p := range []string{"slos", "alerts"} {
		resp, _ := http.Get(base + "/api/v1/" + p)
		b, _ := io.ReadAll(resp.Body)
		os.WriteFile("/tmp/rec-"+p+".json", b, 0o644)
	}
}
