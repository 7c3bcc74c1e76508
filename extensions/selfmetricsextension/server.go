package selfmetricsextension

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"go.opentelemetry.io/collector/component"
	"go.uber.org/zap"
)

type server struct {
	cfg    *Config
	logger *zap.Logger
	srv    *http.Server
	addr   net.Addr // where it listens, once started
	done   chan struct{}
	once   sync.Once
}

func newServer(cfg *Config, logger *zap.Logger) *server {
	return &server{cfg: cfg, logger: logger}
}

func (s *server) Start(_ context.Context, _ component.Host) error {
	ln, err := net.Listen("tcp", s.cfg.Endpoint)
	if err != nil {
		return fmt.Errorf("selfmetrics: listen on %s: %w", s.cfg.Endpoint, err)
	}
	s.addr = ln.Addr()
	mux := http.NewServeMux()
	mux.HandleFunc("/metrics", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		metrics.WritePrometheus(w, s.cfg.ProcessMetrics)
	})
	s.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	s.done = make(chan struct{})
	go func() {
		defer close(s.done)
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.logger.Error("selfmetrics server stopped", zap.Error(err))
		}
	}()
	s.logger.Info("serving self-metrics", zap.String("endpoint", "http://"+ln.Addr().String()+"/metrics"))
	return nil
}

// Shutdown stops the server; it is safe to call twice or without Start.
func (s *server) Shutdown(ctx context.Context) error {
	var err error
	s.once.Do(func() {
		if s.srv == nil {
			return
		}
		err = s.srv.Shutdown(ctx)
		<-s.done
	})
	return err
}
