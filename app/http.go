package app

import (
	"bytes"
	"net/http"

	"github.com/VictoriaMetrics/metrics"

	"github.com/burnwatch/burnwatch/app/web"
)

// HandlerOptions tune the App's HTTP handler.
type HandlerOptions struct {
	// ProcessMetrics adds go_* and process_* metrics to /metrics.
	ProcessMetrics bool
	// BearerToken, when set, is required of every request that changes
	// state (silences); without it such requests are served on loopback
	// listeners only.
	BearerToken string
	// Version is the daemon's, for /api/v1/status; empty for the one the
	// Go toolchain stamped.
	Version string
}

// Handler serves the App's HTTP endpoint: /metrics in the Prometheus text
// format, the Alertmanager-compatible /api/v2 (alerts, silences), the
// status API /api/v1 and the status page at /.
func (a *App) Handler(opts HandlerOptions) http.Handler {
	mux := http.NewServeMux()
	a.amRoutes(mux, opts)
	a.statusRoutes(mux, opts)
	page := web.Handler()
	mux.Handle("GET /{$}", page)
	mux.Handle("GET /static/", page)
	// Liveness and readiness, for Kubernetes probes: healthy while the
	// process serves; ready once the state is restored and the evaluation
	// loop runs, until shutdown.
	mux.HandleFunc("GET /-/healthy", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("Burnwatch is healthy.\n"))
	})
	mux.HandleFunc("GET /-/ready", func(w http.ResponseWriter, _ *http.Request) {
		if !a.ready.Load() {
			http.Error(w, "Burnwatch is not ready: starting, restoring state or stopping.", http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("Burnwatch is ready.\n"))
	})
	mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, _ *http.Request) {
		// Rendered into memory first: the evaluation waits on the page's
		// read of the newest statuses, and must not wait on a slow client.
		var page bytes.Buffer
		a.WriteMetrics(&page)
		if opts.ProcessMetrics {
			withHelp(&page, metrics.WriteProcessMetrics)
		}
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		_, _ = w.Write(page.Bytes())
	})
	return mux
}
