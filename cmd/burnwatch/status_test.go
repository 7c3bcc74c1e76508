package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// statusServer answers /api/v1/slos and /api/v1/alerts with a recorded
// daemon's answers: three SLOs a day into traffic, two burning (one of
// them silenced), one healthy.
func statusServer(t *testing.T) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	for _, name := range []string{"slos", "alerts"} {
		data, err := os.ReadFile(filepath.Join("testdata", "status", name+".json"))
		if err != nil {
			t.Fatal(err)
		}
		mux.HandleFunc("GET /api/v1/"+name, func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write(data)
		})
	}
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// TestStatusTable renders the recorded answers as of a minute and a half
// after their evaluation, against testdata/status/table.golden.
func TestStatusTable(t *testing.T) {
	srv := statusServer(t)
	st, err := fetchStatus(t.Context(), srv.Client(), srv.URL+"/")
	if err != nil {
		t.Fatal(err)
	}
	st.URL = "http://localhost:9464" // the test server's port changes
	var out bytes.Buffer
	if err := renderStatus(&out, st, st.EvaluatedAt.Add(90*time.Second)); err != nil {
		t.Fatal(err)
	}
	golden(t, filepath.Join("testdata", "status", "table.golden"), out.Bytes())
}

func TestStatusCommand(t *testing.T) {
	srv := statusServer(t)
	run := func(args ...string) (string, error) {
		cmd := newStatusCommand()
		var out bytes.Buffer
		cmd.SetOut(&out)
		cmd.SetArgs(append([]string{}, args...)) // never nil: cobra would read os.Args
		err := cmd.Execute()
		return out.String(), err
	}
	out, err := run("--url", srv.URL)
	if err != nil || !strings.Contains(out, "checkout-availability") || !strings.Contains(out, "BURNING (page)") {
		t.Errorf("table: %v\n%s", err, out)
	}
	out, err = run("--url", srv.URL, "-o", "json")
	var st daemonState
	if err != nil || json.Unmarshal([]byte(out), &st) != nil || len(st.SLOs) != 3 || len(st.Alerts) != 2 {
		t.Errorf("-o json: %v\n%s", err, out)
	}
	t.Setenv("BURNWATCH_URL", srv.URL)
	if out, err := run(); err != nil || !strings.Contains(out, "3 SLOs, 2 burning") {
		t.Errorf("$BURNWATCH_URL: %v\n%s", err, out)
	}
	if _, err := run("-o", "yaml"); err == nil || !strings.Contains(err.Error(), "want table or json") {
		t.Errorf("-o yaml: %v", err)
	}
}

// TestStatusUnreachable: a daemon that is not there is an error that says
// where it was looked for and how to point elsewhere.
func TestStatusUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	cmd := newStatusCommand()
	cmd.SetOut(new(bytes.Buffer))
	cmd.SetArgs([]string{"--url", "http://" + addr})
	err = cmd.Execute()
	if err == nil || !strings.Contains(err.Error(), "cannot reach the daemon at "+addr) || !strings.Contains(err.Error(), "--url") {
		t.Errorf("got %v", err)
	}
}

func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (go test -update rewrites it):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}
