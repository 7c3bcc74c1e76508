package burnwatchextension

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/extension"
	"go.uber.org/zap"

	"github.com/burnwatch/burnwatch/app"
)

type burnwatch struct {
	cfg *Config
	set extension.Settings
	app *app.App
	// host is set by Start, before the App builds its receivers' clients.
	host component.Host

	srv      *http.Server
	addr     net.Addr      // where srv listens
	served   chan struct{} // closed when the server goroutine returns
	hup      chan os.Signal
	hupDone  chan struct{}
	stopOnce sync.Once
}

func (e *burnwatch) App() *app.App { return e.app }

// Start starts the App, then its HTTP endpoint, and reloads the App on
// SIGHUP.
func (e *burnwatch) Start(ctx context.Context, host component.Host) error {
	e.host = host
	if err := e.app.Start(ctx); err != nil {
		return err
	}
	e.hup, e.hupDone = make(chan os.Signal, 1), make(chan struct{})
	signal.Notify(e.hup, syscall.SIGHUP)
	go e.reloads()
	if e.cfg.HTTP.NetAddr.Endpoint == "" {
		return nil
	}
	ln, err := e.cfg.HTTP.ToListener(ctx)
	if err != nil {
		return fmt.Errorf("burnwatch: http: listen on %s: %w", e.cfg.HTTP.NetAddr.Endpoint, err)
	}
	srv, err := e.cfg.HTTP.ToServer(ctx, host.GetExtensions(), e.set.TelemetrySettings,
		e.app.Handler(app.HandlerOptions{ProcessMetrics: e.cfg.ProcessMetrics, BearerToken: string(e.cfg.API.BearerToken), Version: e.set.BuildInfo.Version}))
	if err != nil {
		_ = ln.Close()
		return fmt.Errorf("burnwatch: http: %w", err)
	}
	e.srv, e.addr, e.served = srv, ln.Addr(), make(chan struct{})
	go func() {
		defer close(e.served)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			e.set.Logger.Error("burnwatch http endpoint stopped", zap.Error(err))
		}
	}()
	e.set.Logger.Info("burnwatch http endpoint", zap.String("metrics", "http://"+ln.Addr().String()+"/metrics"))
	return nil
}

// Shutdown stops the endpoint, then the App. It is safe to call twice and
// without Start.
func (e *burnwatch) Shutdown(ctx context.Context) error {
	var err error
	e.stopOnce.Do(func() {
		if e.hup != nil {
			signal.Stop(e.hup)
			close(e.hup)
			<-e.hupDone
		}
		if e.srv != nil {
			err = e.srv.Shutdown(ctx)
			<-e.served
		}
		err = errors.Join(err, e.app.Shutdown(ctx))
	})
	return err
}

// reloads reloads the App at each SIGHUP until Shutdown closes e.hup.
func (e *burnwatch) reloads() {
	defer close(e.hupDone)
	for range e.hup {
		if err := e.app.Reload(); err != nil {
			e.set.Logger.Error("reload failed; the running configuration goes on", zap.Error(err))
		}
	}
}

// httpClient builds a receiver's HTTP client from its http settings with
// the collector's confighttp (TLS, proxy, headers, auth extensions). It does
// not follow redirects: a redirected POST would lose its body.
func (e *burnwatch) httpClient(receiver string, raw map[string]any) (*http.Client, error) {
	cc, err := clientConfig(raw)
	if err != nil {
		return nil, err
	}
	var exts map[component.ID]component.Component
	if e.host != nil {
		exts = e.host.GetExtensions()
	}
	c, err := cc.ToClient(context.Background(), exts, e.set.TelemetrySettings)
	if err != nil {
		return nil, fmt.Errorf("receiver %q: %w", receiver, err)
	}
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return c, nil
}
