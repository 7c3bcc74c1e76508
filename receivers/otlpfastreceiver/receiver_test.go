package otlpfastreceiver

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/configauth"
	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/config/configtls"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"go.opentelemetry.io/collector/receiver/receivertest"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/burnwatch/burnwatch/extensions/burnwatchextension/burnwatchextensiontest"
)

func TestLifecycle(t *testing.T) {
	newRcv := func(t *testing.T, cfg *Config) *fastReceiver {
		rcv, err := NewFactory().CreateTraces(context.Background(), receivertest.NewNopSettings(Type), cfg, consumertest.NewNop())
		if err != nil {
			t.Fatal(err)
		}
		return rcv.(*fastReceiver)
	}
	t.Run("shut down twice", func(t *testing.T) {
		h := start(t, setup{})
		for range 2 {
			if err := h.r.Shutdown(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
	})
	t.Run("shut down without start", func(t *testing.T) {
		if err := newRcv(t, createDefaultConfig().(*Config)).Shutdown(context.Background()); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("start without the extension", func(t *testing.T) {
		r := newRcv(t, createDefaultConfig().(*Config))
		if err := r.Start(context.Background(), &burnwatchextensiontest.Host{}); err == nil || !strings.Contains(err.Error(), "is not configured") {
			t.Errorf("Start without the extension = %v", err)
		}
		if err := r.Shutdown(context.Background()); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("http port taken", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		host, _ := burnwatchextensiontest.Start(t, nil, specs)
		cfg := createDefaultConfig().(*Config)
		cfg.Protocols.GRPC.GetOrInsertDefault().NetAddr.Endpoint = "127.0.0.1:0"
		cfg.Protocols.HTTP.GetOrInsertDefault().ServerConfig.NetAddr.Endpoint = ln.Addr().String()
		r := newRcv(t, cfg)
		// The gRPC server started is stopped again (goleak checks).
		if err := r.Start(context.Background(), host); err == nil || !strings.Contains(err.Error(), "protocols.http") {
			t.Errorf("Start on a taken port = %v", err)
		}
	})
}

// TestReload: a spec reload swaps the flows; the next request classifies
// with the new ones.
func TestReload(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"flows.yaml", "slos.yaml"} {
		b, err := os.ReadFile(filepath.Join("testdata", "specs", f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	host, a := burnwatchextensiontest.Start(t, nil, filepath.Join(dir, "*.yaml"))
	h := &harness{app: a, host: host}
	cfg := createDefaultConfig().(*Config)
	cfg.Protocols.HTTP.GetOrInsertDefault().ServerConfig.NetAddr.Endpoint = "127.0.0.1:0"
	rcv, err := NewFactory().CreateTraces(context.Background(), receivertest.NewNopSettings(Type), cfg, consumertest.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	h.r = rcv.(*fastReceiver)
	if err := h.r.Start(context.Background(), host); err != nil {
		t.Fatal(err)
	}
	defer h.r.Shutdown(context.Background())
	c := client(t)
	body := encode(t, checkout(2, 0), false) // two checkouts and a /cart
	post(t, c, h.httpURL(), protobufType, body)
	cart := "---\napiVersion: burnwatch.dev/v1\nkind: Flow\nmetadata: {name: cart}\nspec:\n  match: [{attribute: http.route, equals: /cart}]\n"
	if err := os.WriteFile(filepath.Join(dir, "cart.yaml"), []byte(cart), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := a.ReloadSpecs(); err != nil {
		t.Fatal(err)
	}
	post(t, c, h.httpURL(), protobufType, body)
	got := flowEvents(a)
	if got["checkout"][0] != 4 || got["cart"][0] != 1 {
		t.Errorf("flows after the reload = %v, want 4 checkouts and 1 cart", got)
	}
}

// authServer lets through requests with the header x-token: secret.
type authServer struct {
	component.StartFunc
	component.ShutdownFunc
}

func (authServer) Authenticate(ctx context.Context, sources map[string][]string) (context.Context, error) {
	for k, v := range sources {
		if strings.EqualFold(k, "x-token") && len(v) == 1 && v[0] == "secret" {
			return ctx, nil
		}
	}
	return ctx, errors.New("no token")
}

// TestAuth: the servers take the collector's auth extensions.
func TestAuth(t *testing.T) {
	authID := component.MustNewID("tokenauth")
	h := start(t, setup{
		host: func(h *burnwatchextensiontest.Host) { h.Extensions[authID] = authServer{} },
		cfg: func(c *Config) {
			c.Protocols.GRPC.Get().Auth = configoptional.Some(configauth.Config{AuthenticatorID: authID})
			c.Protocols.HTTP.Get().ServerConfig.Auth = configoptional.Some(confighttp.AuthConfig{Config: configauth.Config{AuthenticatorID: authID}})
		},
	})
	body := encode(t, checkout(1, 0), false)
	if resp, b := post(t, client(t), h.httpURL(), protobufType, body); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("http without a token: %s %q", resp.Status, b)
	}
	if resp, b := post(t, client(t), h.httpURL(), protobufType, body, "x-token", "secret"); resp.StatusCode != http.StatusOK {
		t.Errorf("http with the token: %s %q", resp.Status, b)
	}
	conn := dial(t, h.grpcAddr())
	if _, err := exportRaw(conn, body); status.Code(err) != codes.Unauthenticated {
		t.Errorf("grpc without a token: %v", err)
	}
	ctx := metadata.AppendToOutgoingContext(context.Background(), "x-token", "secret")
	if _, err := ptraceotlp.NewGRPCClient(conn).Export(ctx, ptraceotlp.NewExportRequestFromTraces(checkout(1, 0))); err != nil {
		t.Errorf("grpc with the token: %v", err)
	}
	if got := flowEvents(h.app)["checkout"][0]; got != 2 {
		t.Errorf("checkout = %d, want 2", got)
	}
}

// TestTLS: both servers take the collector's TLS settings.
func TestTLS(t *testing.T) {
	certFile, keyFile, pool := selfSigned(t)
	tlsCfg := configtls.NewDefaultServerConfig()
	tlsCfg.CertFile, tlsCfg.KeyFile = certFile, keyFile
	h := start(t, setup{cfg: func(c *Config) {
		c.Protocols.GRPC.Get().TLS = configoptional.Some(tlsCfg)
		c.Protocols.HTTP.Get().ServerConfig.TLS = configoptional.Some(tlsCfg)
	}})
	body := encode(t, checkout(1, 0), false)
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	defer c.CloseIdleConnections()
	url := strings.Replace(h.httpURL(), "http://", "https://", 1)
	if resp, b := post(t, c, url, protobufType, body); resp.StatusCode != http.StatusOK {
		t.Errorf("https: %s %q", resp.Status, b)
	}
	conn, err := grpc.NewClient(h.grpcAddr(), grpc.WithTransportCredentials(credentials.NewTLS(&tls.Config{RootCAs: pool})))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := exportRaw(conn, body); err != nil {
		t.Errorf("grpc over TLS: %v", err)
	}
	if got := flowEvents(h.app)["checkout"][0]; got != 2 {
		t.Errorf("checkout = %d, want 2", got)
	}
}

// selfSigned writes a certificate for 127.0.0.1 and its key.
func selfSigned(t *testing.T) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA: true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// TestConcurrent: requests on both transports at once share the pools and
// the App without losing a count (run with -race).
func TestConcurrent(t *testing.T) {
	h := start(t, setup{})
	c := client(t)
	conn := dial(t, h.grpcAddr())
	pb := encode(t, checkout(5, 1), false)
	js := encode(t, checkout(5, 1), true)
	const each = 20
	done := make(chan error, 3)
	go func() {
		for range each {
			if _, err := exportRaw(conn, pb); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	for _, body := range []struct {
		b  []byte
		ct string
	}{{pb, protobufType}, {js, jsonType}} {
		go func() {
			for range each {
				req, _ := http.NewRequest(http.MethodPost, h.httpURL(), bytes.NewReader(body.b))
				req.Header.Set("Content-Type", body.ct)
				resp, err := c.Do(req)
				if err != nil {
					done <- err
					return
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					done <- errors.New(resp.Status)
					return
				}
			}
			done <- nil
		}()
	}
	for range 3 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	if got := flowEvents(h.app)["checkout"]; got != [2]uint64{3 * each * 5, 3 * each} {
		t.Errorf("checkout = %v, want %d events, %d errors", got, 3*each*5, 3*each)
	}
}
