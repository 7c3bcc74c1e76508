package otlpfastreceiver

import (
	"context"
	"net/http"

	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// OTLP metrics, for a receiver that is in a metrics pipeline too: decoded
// as the otlp receiver decodes them (pdata) and passed to the pipeline,
// whose slo connector counts the metric SLIs. Served on the same gRPC and
// HTTP servers as traces, so one endpoint takes both.

const (
	metricsServiceName = "opentelemetry.proto.collector.metrics.v1.MetricsService"
	metricsMethod      = "/" + metricsServiceName + "/Export"
)

var metricsServiceDesc = grpc.ServiceDesc{
	ServiceName: metricsServiceName,
	HandlerType: (*exporter)(nil),
	Methods:     []grpc.MethodDesc{{MethodName: "Export", Handler: metricsHandler}},
	Metadata:    "opentelemetry/proto/collector/metrics/v1/metrics_service.proto",
}

// metricsRequest is an ExportMetricsServiceRequest as bytes.
type metricsRequest struct{ data []byte }

func metricsHandler(srv any, ctx context.Context, dec func(any) error, interceptor grpc.UnaryServerInterceptor) (any, error) {
	r := srv.(*fastReceiver)
	req := &metricsRequest{}
	if err := dec(req); err != nil {
		return nil, err
	}
	export := func(ctx context.Context, m any) (any, error) {
		if err := r.consumeMetrics(ctx, m.(*metricsRequest).data, false, &r.m.metricsGRPC); err != nil {
			return nil, err
		}
		return accepted, nil
	}
	if interceptor == nil {
		return export(ctx, req)
	}
	return interceptor(ctx, req, &grpc.UnaryServerInfo{Server: srv, FullMethod: metricsMethod}, export)
}

// consumeMetrics decodes an export request and passes its metrics on. Its
// error is a gRPC status: InvalidArgument for what cannot be decoded or
// what the pipeline refused for good, Unavailable with a retry delay for
// what it asks to be sent again.
func (r *fastReceiver) consumeMetrics(ctx context.Context, data []byte, isJSON bool, t *transportCounters) error {
	req := pmetricotlp.NewExportRequest()
	if err := unmarshal(req, data, isJSON); err != nil {
		t.malformed.Inc()
		return status.Error(codes.InvalidArgument, "metrics: "+sanitize(err.Error()))
	}
	md := req.Metrics()
	if md.DataPointCount() == 0 {
		t.accepted.Inc()
		return nil
	}
	if err := r.nextMetrics.ConsumeMetrics(ctx, md); err != nil {
		if st, ok := status.FromError(err); ok {
			t.refused.Inc()
			return st.Err()
		}
		if consumererror.IsPermanent(err) {
			t.malformed.Inc()
			return status.Error(codes.InvalidArgument, sanitize(err.Error()))
		}
		t.refused.Inc()
		return refusal(err)
	}
	t.accepted.Inc()
	return nil
}

// serveMetricsHTTP is OTLP/HTTP for metrics: POST protobuf or JSON.
func (r *fastReceiver) serveMetricsHTTP(rw http.ResponseWriter, req *http.Request) {
	t := &r.m.metricsHTTP
	data, isJSON, ok := readRequest(rw, req, &work{}, t)
	if !ok {
		return
	}
	if err := r.consumeMetrics(req.Context(), data, isJSON, t); err != nil {
		st := status.Convert(err)
		writeStatus(rw, isJSON, httpStatus(st.Code()), st)
		return
	}
	if isJSON {
		writeBody(rw, jsonType, http.StatusOK, []byte("{}"))
		return
	}
	writeBody(rw, protobufType, http.StatusOK, nil)
}
