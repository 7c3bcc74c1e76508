package otlpfastreceiver

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componentstatus"
	"go.opentelemetry.io/collector/config/configgrpc"
	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"go.opentelemetry.io/collector/receiver"
	"go.uber.org/zap"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/burnwatch/burnwatch/app"
	"github.com/burnwatch/burnwatch/extensions/burnwatchextension"
	"github.com/burnwatch/burnwatch/receivers/otlpfastreceiver/internal/otlpwire"
	"github.com/burnwatch/burnwatch/slo"
)

// retryAfter is the delay a refused sender is asked to wait: the App tries
// to make storage durable again every 5 s.
const retryAfter = 5 * time.Second

// maxPooledBuffer bounds the request buffers kept for reuse; a larger one
// (a rare huge request) goes to the garbage collector.
const maxPooledBuffer = 16 << 20

// fastReceiver serves OTLP trace export over gRPC and HTTP and hands the
// events to the burnwatch extension's App.
type fastReceiver struct {
	cfg  *Config
	set  receiver.Settings
	next consumer.Traces
	// next is set when it is in a traces pipeline (traces are served only
	// then, as the otlp receiver serves them), nextMetrics when it is in a
	// metrics pipeline (metrics likewise).
	nextMetrics consumer.Metrics
	// forget takes it out of the factory's receivers at shutdown.
	forget func()

	// Set by Start.
	app *app.App
	// observe is app.Observe; tests see the events through it.
	observe func([]slo.Event) error
	m       counters
	// cur decodes with the App's flows now; a spec reload replaces them
	// and the next request builds a decoder for the new ones.
	cur atomic.Pointer[decoding]

	grpc      *grpc.Server
	http      *http.Server
	addrs     [2]net.Addr // where the gRPC and HTTP servers listen, for tests
	wg        sync.WaitGroup
	startOnce sync.Once
	startErr  error
	stopOnce  sync.Once
}

// decoding is a decoder for one set of flows and the scratch it uses.
type decoding struct {
	flows *app.Flows
	dec   *otlpwire.Decoder
	work  sync.Pool // *work
}

// work is one request's scratch: its bytes, what they decode to, the
// counts for the App. It is reused, so that a request allocates nothing
// per span.
type work struct {
	d     *decoding
	buf   []byte
	batch *otlpwire.Batch
	tally *app.Tally
	req   grpcRequest
}

func newReceiver(cfg *Config, set receiver.Settings) *fastReceiver {
	return &fastReceiver{cfg: cfg, set: set}
}

// Start finds the App and starts the servers; a receiver in two pipelines
// starts once.
func (r *fastReceiver) Start(ctx context.Context, host component.Host) error {
	r.startOnce.Do(func() { r.startErr = r.start(ctx, host) })
	return r.startErr
}

func (r *fastReceiver) start(ctx context.Context, host component.Host) error {
	a, err := burnwatchextension.FindApp(host, r.cfg.Extension)
	if err != nil {
		return err
	}
	r.app = a
	if r.observe == nil {
		r.observe = a.Observe
	}
	r.m = newCounters(a, r.nextMetrics != nil)
	if err := r.startGRPC(ctx, host); err != nil {
		return err
	}
	if err := r.startHTTP(ctx, host); err != nil {
		return errors.Join(err, r.Shutdown(ctx))
	}
	return nil
}

func (r *fastReceiver) startGRPC(ctx context.Context, host component.Host) error {
	cfg := r.cfg.Protocols.GRPC.Get()
	if cfg == nil {
		return nil
	}
	// The codec hands the handler the request's bytes: no generated
	// message is built.
	srv, err := cfg.ToServer(ctx, host.GetExtensions(), r.set.TelemetrySettings,
		configgrpc.WithGrpcServerOption(grpc.ForceServerCodecV2(rawCodec{})))
	if err != nil {
		return fmt.Errorf("protocols.grpc: %w", err)
	}
	if r.next != nil {
		srv.RegisterService(&traceServiceDesc, r)
	}
	if r.nextMetrics != nil {
		srv.RegisterService(&metricsServiceDesc, r)
	}
	ln, err := cfg.NetAddr.Listen(ctx)
	if err != nil {
		return fmt.Errorf("protocols.grpc: %w", err)
	}
	r.grpc, r.addrs[0] = srv, ln.Addr()
	r.set.Logger.Info("Starting GRPC server", zap.String("endpoint", ln.Addr().String()))
	r.wg.Go(func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, grpc.ErrServerStopped) {
			componentstatus.ReportStatus(host, componentstatus.NewFatalErrorEvent(err))
		}
	})
	return nil
}

func (r *fastReceiver) startHTTP(ctx context.Context, host component.Host) error {
	cfg := r.cfg.Protocols.HTTP.Get()
	if cfg == nil {
		return nil
	}
	mux := http.NewServeMux()
	if r.next != nil {
		mux.HandleFunc(cfg.TracesURLPath, r.serveHTTP)
	}
	if r.nextMetrics != nil {
		mux.HandleFunc(cfg.MetricsURLPath, r.serveMetricsHTTP)
	}
	srv, err := cfg.ServerConfig.ToServer(ctx, host.GetExtensions(), r.set.TelemetrySettings, mux,
		confighttp.WithErrorHandler(r.httpError))
	if err != nil {
		return fmt.Errorf("protocols.http: %w", err)
	}
	ln, err := cfg.ServerConfig.ToListener(ctx)
	if err != nil {
		return fmt.Errorf("protocols.http: %w", err)
	}
	r.http, r.addrs[1] = srv, ln.Addr()
	r.set.Logger.Info("Starting HTTP server", zap.String("endpoint", ln.Addr().String()))
	r.wg.Go(func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			componentstatus.ReportStatus(host, componentstatus.NewFatalErrorEvent(err))
		}
	})
	return nil
}

// Shutdown stops the servers, letting requests in flight finish; it is
// safe to call twice (a receiver in two pipelines is shut down twice) and
// without Start.
func (r *fastReceiver) Shutdown(ctx context.Context) error {
	var err error
	r.stopOnce.Do(func() {
		if r.forget != nil {
			r.forget()
		}
		if r.http != nil {
			err = r.http.Shutdown(ctx)
		}
		if r.grpc != nil {
			r.grpc.GracefulStop()
		}
		r.wg.Wait()
	})
	return err
}

// getWork returns scratch for a request, for the App's flows now.
func (r *fastReceiver) getWork() *work {
	fl := r.app.Flows()
	d := r.cur.Load()
	if d == nil || d.flows != fl {
		d = &decoding{flows: fl, dec: otlpwire.NewDecoder(fl.Classifier(), otlpwire.Options{TrustAnnotations: r.cfg.TrustAnnotations, Group: fl.EventFlow})}
		r.cur.Store(d)
	}
	if w, ok := d.work.Get().(*work); ok {
		return w
	}
	w := &work{d: d, batch: d.dec.NewBatch(), tally: fl.NewTally()}
	w.req.w = w
	return w
}

func (r *fastReceiver) putWork(w *work) {
	w.batch.Reset()
	w.req.data = nil
	if cap(w.buf) > maxPooledBuffer {
		w.buf = nil
	}
	w.d.work.Put(w)
}

// outcome is an accepted request's answer: how many spans were rejected,
// and why.
type outcome struct {
	rejected int64
	message  string
}

// consume decodes a request, forwards it when asked and hands its events
// to the App. Its error is a gRPC status; the HTTP handler maps it.
func (r *fastReceiver) consume(ctx context.Context, w *work, data []byte, isJSON bool, t *transportCounters) (outcome, error) {
	b := w.batch
	var err error
	if isJSON {
		err = w.d.dec.DecodeJSON(b, data)
	} else {
		err = w.d.dec.DecodeProto(b, data)
	}
	if err != nil {
		t.malformed.Inc()
		return outcome{}, status.Error(codes.InvalidArgument, sanitize(err.Error()))
	}
	if r.cfg.Forward {
		if err := r.forward(ctx, data, isJSON); err != nil {
			t.failed.Inc()
			return outcome{}, err
		}
	}
	// Observe reorders the events: count the flows first.
	tally := w.tally
	for _, f := range b.Flow {
		if f >= 0 {
			tally.Classified[f]++
		}
	}
	if len(b.Events) > 0 {
		if err := r.observe(b.Events); err != nil {
			for _, f := range b.Flow {
				if f >= 0 {
					tally.Classified[f] = 0
				}
			}
			t.refused.Inc()
			return outcome{}, refusal(err)
		}
	}
	c := b.Counts
	tally.Received, tally.Entry, tally.Unmatched, tally.Removed = c.Received, c.Entry, c.Unmatched, c.Removed
	w.d.flows.Add(tally)
	if c.Rejected() == 0 {
		t.accepted.Inc()
		return outcome{}, nil
	}
	t.partial.Inc()
	r.m.endBeforeStart.Add(c.EndBeforeStart)
	r.m.invalidID.Add(c.InvalidID)
	var why []string
	if c.EndBeforeStart > 0 {
		why = append(why, fmt.Sprintf("%d end before they start", c.EndBeforeStart))
	}
	if c.InvalidID > 0 {
		why = append(why, fmt.Sprintf("%d have a trace_id, span_id or parent_span_id (or a link's) of the wrong length", c.InvalidID))
	}
	return outcome{rejected: int64(c.Rejected()), message: fmt.Sprintf("%d spans rejected as invalid: %s", c.Rejected(), strings.Join(why, "; "))}, nil
}

// forward passes the request on, as pdata, as the otlp receiver would.
func (r *fastReceiver) forward(ctx context.Context, data []byte, isJSON bool) error {
	req := ptraceotlp.NewExportRequest()
	if err := unmarshal(req, data, isJSON); err != nil {
		// Only spans with ids pdata cannot hold get here: what cannot be
		// shipped is refused whole, as the otlp receiver refuses it.
		return status.Error(codes.InvalidArgument, "forward: "+sanitize(err.Error()))
	}
	td := req.Traces()
	if td.SpanCount() == 0 {
		return nil
	}
	if err := r.next.ConsumeTraces(ctx, td); err != nil {
		if st, ok := status.FromError(err); ok {
			return st.Err()
		}
		if consumererror.IsPermanent(err) {
			return status.Error(codes.Internal, "forward: "+sanitize(err.Error()))
		}
		return status.Error(codes.Unavailable, "forward: "+sanitize(err.Error()))
	}
	return nil
}

// refusal is the answer to a batch the App refused: retry later.
func refusal(err error) error {
	st := status.New(codes.Unavailable, sanitize(err.Error()))
	if d, derr := st.WithDetails(&errdetails.RetryInfo{RetryDelay: durationpb.New(retryAfter)}); derr == nil {
		st = d
	}
	return st.Err()
}

// sanitize makes an error message fit for a status: valid UTF-8 (a JSON
// status cannot carry anything else) and not too long.
func sanitize(s string) string {
	const max = 512
	if len(s) > max {
		s = s[:max] + "…"
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}

// counters are the receiver's own, in the App's metrics.
type counters struct {
	grpc, http                transportCounters
	endBeforeStart, invalidID *metrics.Counter
	// metricsGRPC and metricsHTTP count metric export requests, when the
	// receiver takes metrics.
	metricsGRPC, metricsHTTP transportCounters
}

// transportCounters count a transport's requests by outcome.
type transportCounters struct {
	accepted, partial, malformed, tooLarge, unsupported, refused, failed *metrics.Counter
}

func newCounters(a *app.App, withMetrics bool) counters {
	transport := func(family, name string) transportCounters {
		c := func(outcome string) *metrics.Counter {
			return a.Counter(fmt.Sprintf(`%s{transport=%q,outcome=%q}`, family, name, outcome))
		}
		return transportCounters{accepted: c("accepted"), partial: c("partial"), malformed: c("malformed"),
			tooLarge: c("too_large"), unsupported: c("unsupported"), refused: c("refused"), failed: c("forward_failed")}
	}
	cs := counters{
		grpc: transport("burnwatch_receiver_requests_total", "grpc"), http: transport("burnwatch_receiver_requests_total", "http"),
		endBeforeStart: a.Counter(`burnwatch_receiver_spans_rejected_total{reason="end_before_start"}`),
		invalidID:      a.Counter(`burnwatch_receiver_spans_rejected_total{reason="invalid_id"}`),
	}
	if withMetrics {
		cs.metricsGRPC = transport("burnwatch_receiver_metric_requests_total", "grpc")
		cs.metricsHTTP = transport("burnwatch_receiver_metric_requests_total", "http")
	}
	return cs
}
