package otlpfastreceiver

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// OTLP/HTTP: POST protobuf or JSON to the traces path. Bodies arrive
// decompressed and bounded by max_request_body_size (confighttp).

const (
	protobufType = "application/x-protobuf"
	jsonType     = "application/json"
)

// maxPrealloc bounds the buffer made for a body from its Content-Length
// alone: a client cannot make the server allocate what it does not send.
const maxPrealloc = 4 << 20

func (r *fastReceiver) serveHTTP(rw http.ResponseWriter, req *http.Request) {
	t := &r.m.http
	w := r.getWork()
	defer r.putWork(w)
	data, isJSON, ok := readRequest(rw, req, w, t)
	if !ok {
		return
	}
	res, err := r.consume(req.Context(), w, data, isJSON, t)
	if err != nil {
		st := status.Convert(err)
		writeStatus(rw, isJSON, httpStatus(st.Code()), st)
		return
	}
	if isJSON {
		writeBody(rw, jsonType, http.StatusOK, appendJSONResponse(nil, res))
		return
	}
	writeBody(rw, protobufType, http.StatusOK, appendResponse(nil, res))
}

// readRequest reads an OTLP/HTTP export's body into w's buffer and says
// whether it is JSON; when it cannot (not a POST, another Content-Type, a
// body too large or cut short) it answers the request itself, counts it in
// t and returns false.
func readRequest(rw http.ResponseWriter, req *http.Request, w *work, t *transportCounters) (data []byte, isJSON, ok bool) {
	if req.Method != http.MethodPost {
		t.unsupported.Inc()
		writePlain(rw, http.StatusMethodNotAllowed, "405 method not allowed, supported: [POST]")
		return nil, false, false
	}
	if isJSON, ok = encodingOf(req.Header.Get("Content-Type")); !ok {
		t.unsupported.Inc()
		writePlain(rw, http.StatusUnsupportedMediaType, fmt.Sprintf("415 unsupported media type, supported: [%s, %s]", jsonType, protobufType))
		return nil, false, false
	}
	data, err := readBody(req.Body, req.ContentLength, w)
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			t.tooLarge.Inc()
			writeStatus(rw, isJSON, http.StatusRequestEntityTooLarge, status.New(codes.InvalidArgument,
				fmt.Sprintf("request body larger than %d bytes (protocols.http.max_request_body_size)", tooLarge.Limit)))
			return nil, isJSON, false
		}
		t.malformed.Inc()
		writeStatus(rw, isJSON, http.StatusBadRequest, status.New(codes.InvalidArgument, "reading the body: "+sanitize(err.Error())))
		return nil, isJSON, false
	}
	return data, isJSON, true
}

// otlpRequest is an export request of pdata's otlp packages.
type otlpRequest interface {
	UnmarshalProto([]byte) error
	UnmarshalJSON([]byte) error
}

// unmarshal decodes an export request in its encoding, as the otlp
// receiver does.
func unmarshal(req otlpRequest, data []byte, isJSON bool) error {
	if isJSON {
		return req.UnmarshalJSON(data)
	}
	return req.UnmarshalProto(data)
}

// httpError answers what confighttp refuses before the handler (an
// unknown Content-Encoding, a body that does not decompress, a failed
// authentication) in OTLP's form, like the otlp receiver.
func (r *fastReceiver) httpError(rw http.ResponseWriter, req *http.Request, msg string, code int) {
	isJSON, ok := encodingOf(req.Header.Get("Content-Type"))
	if code == http.StatusBadRequest {
		r.m.http.malformed.Inc()
	}
	c := codes.Unknown
	switch code {
	case http.StatusBadRequest:
		c = codes.InvalidArgument
	case http.StatusUnauthorized:
		c = codes.Unauthenticated
	}
	writeStatus(rw, isJSON || !ok, code, status.New(c, sanitize(msg)))
}

// encodingOf reads the Content-Type: JSON or protobuf, or neither.
func encodingOf(contentType string) (isJSON, ok bool) {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false, false
	}
	switch mt {
	case jsonType:
		return true, true
	case protobufType:
		return false, true
	}
	return false, false
}

// readBody reads a body into the work's buffer.
func readBody(body io.Reader, size int64, w *work) ([]byte, error) {
	b := w.buf[:0]
	if size > int64(cap(b)) && cap(b) < maxPrealloc {
		b = make([]byte, 0, min(size, maxPrealloc))
	}
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := body.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err != nil {
			w.buf = b
			if err == io.EOF {
				return b, nil
			}
			return nil, err
		}
	}
}

// httpStatus is the HTTP status of a gRPC code, as OTLP maps them.
func httpStatus(c codes.Code) int {
	switch c {
	case codes.InvalidArgument:
		return http.StatusBadRequest
	case codes.Unavailable:
		return http.StatusServiceUnavailable
	case codes.ResourceExhausted:
		return http.StatusTooManyRequests
	case codes.Unauthenticated:
		return http.StatusUnauthorized
	case codes.PermissionDenied:
		return http.StatusForbidden
	}
	return http.StatusInternalServerError
}

// writeStatus writes a google.rpc.Status in the request's encoding, with
// Retry-After when it asks the client to retry later.
func writeStatus(rw http.ResponseWriter, isJSON bool, code int, st *status.Status) {
	if code == http.StatusServiceUnavailable || code == http.StatusTooManyRequests {
		rw.Header().Set("Retry-After", strconv.Itoa(int(retryAfter.Seconds())))
	}
	contentType, marshal := protobufType, proto.Marshal
	if isJSON {
		contentType, marshal = jsonType, protojson.Marshal
	}
	body, err := marshal(st.Proto())
	if err != nil {
		contentType, code, body = jsonType, http.StatusInternalServerError, []byte(`{"code":13,"message":"failed to encode the error"}`)
	}
	writeBody(rw, contentType, code, body)
}

func writeBody(rw http.ResponseWriter, contentType string, code int, body []byte) {
	rw.Header().Set("Content-Type", contentType)
	rw.WriteHeader(code)
	_, _ = rw.Write(body)
}

func writePlain(rw http.ResponseWriter, code int, msg string) {
	writeBody(rw, "text/plain", code, []byte(msg))
}

// appendResponse appends an ExportTraceServiceResponse: empty, or with
// partial_success (1) {rejected_spans (1), error_message (2)}.
func appendResponse(b []byte, res outcome) []byte {
	if res.rejected == 0 && res.message == "" {
		return b
	}
	var ps []byte
	if res.rejected != 0 {
		ps = appendVarint(append(ps, 1<<3|0), uint64(res.rejected))
	}
	if res.message != "" {
		ps = appendVarint(append(ps, 2<<3|2), uint64(len(res.message)))
		ps = append(ps, res.message...)
	}
	b = appendVarint(append(b, 1<<3|2), uint64(len(ps)))
	return append(b, ps...)
}

// appendJSONResponse is appendResponse in OTLP/JSON (an int64 is a
// string).
func appendJSONResponse(b []byte, res outcome) []byte {
	if res.rejected == 0 && res.message == "" {
		return append(b, "{}"...)
	}
	type partial struct {
		RejectedSpans string `json:"rejectedSpans,omitempty"`
		ErrorMessage  string `json:"errorMessage,omitempty"`
	}
	p := partial{ErrorMessage: res.message}
	if res.rejected != 0 {
		p.RejectedSpans = strconv.FormatInt(res.rejected, 10)
	}
	out, _ := json.Marshal(struct {
		PartialSuccess partial `json:"partialSuccess"`
	}{p})
	return append(b, out...)
}

func appendVarint(b []byte, v uint64) []byte {
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}
