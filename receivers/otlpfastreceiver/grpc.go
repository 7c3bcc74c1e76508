package otlpfastreceiver

import (
	"context"
	"fmt"

	"google.golang.org/grpc"
	"google.golang.org/grpc/mem"
)

// OTLP/gRPC: the TraceService, served without its generated code. The
// codec gives the handler the request's bytes and writes the response's.

const (
	traceServiceName = "opentelemetry.proto.collector.trace.v1.TraceService"
	exportMethod     = "/" + traceServiceName + "/Export"
)

// exporter is what the service's handler calls.
type exporter interface {
	export(ctx context.Context, req *grpcRequest) (*grpcResponse, error)
}

var traceServiceDesc = grpc.ServiceDesc{
	ServiceName: traceServiceName,
	HandlerType: (*exporter)(nil),
	Methods:     []grpc.MethodDesc{{MethodName: "Export", Handler: exportHandler}},
	Metadata:    "opentelemetry/proto/collector/trace/v1/trace_service.proto",
}

// grpcRequest is an ExportTraceServiceRequest as bytes, in its work's
// buffer.
type grpcRequest struct {
	w    *work
	data []byte
}

// grpcResponse is an encoded ExportTraceServiceResponse.
type grpcResponse struct{ b []byte }

// accepted is the response to a request accepted whole: empty.
var accepted = &grpcResponse{}

// exportHandler is what generated code would be: decode, then the
// interceptors (client info, auth), then export.
func exportHandler(srv any, ctx context.Context, dec func(any) error, interceptor grpc.UnaryServerInterceptor) (any, error) {
	r := srv.(*fastReceiver)
	w := r.getWork()
	defer r.putWork(w)
	req := &w.req
	if err := dec(req); err != nil {
		return nil, err
	}
	if interceptor == nil {
		return r.export(ctx, req)
	}
	return interceptor(ctx, req, &grpc.UnaryServerInfo{Server: srv, FullMethod: exportMethod},
		func(ctx context.Context, m any) (any, error) { return r.export(ctx, m.(*grpcRequest)) })
}

func (r *fastReceiver) export(ctx context.Context, req *grpcRequest) (*grpcResponse, error) {
	res, err := r.consume(ctx, req.w, req.data, false, &r.m.grpc)
	if err != nil {
		return nil, err
	}
	if res.rejected == 0 {
		return accepted, nil
	}
	return &grpcResponse{b: appendResponse(nil, res)}, nil
}

// rawCodec moves bytes: the request's into its work's buffer (gRPC has
// already decompressed them and checked max_recv_msg_size_mib), the
// response's out.
type rawCodec struct{}

func (rawCodec) Name() string { return "proto" }

func (rawCodec) Marshal(v any) (mem.BufferSlice, error) {
	resp, ok := v.(*grpcResponse)
	if !ok {
		return nil, fmt.Errorf("otlpfast: cannot encode a %T", v)
	}
	if len(resp.b) == 0 {
		return nil, nil
	}
	return mem.BufferSlice{mem.SliceBuffer(resp.b)}, nil
}

func (rawCodec) Unmarshal(data mem.BufferSlice, v any) error {
	if m, ok := v.(*metricsRequest); ok {
		m.data = data.Materialize()
		return nil
	}
	req, ok := v.(*grpcRequest)
	if !ok {
		return fmt.Errorf("otlpfast: cannot decode into a %T", v)
	}
	n := data.Len()
	w := req.w
	if cap(w.buf) < n {
		w.buf = make([]byte, n+n/4)
	}
	req.data = w.buf[:n]
	data.CopyTo(req.data)
	return nil
}
