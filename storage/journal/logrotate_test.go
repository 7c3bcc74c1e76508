package journal

import (
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestLogrotate rotates the journal with the real logrotate binary, forced
// (-f) with its own state file (-s), in each mode docs/operations.md
// recommends, and checks that every record written appears exactly once
// across the live file and all rotated files, compressed or not.
func TestLogrotate(t *testing.T) {
	bin := requireLogrotate(t)
	tests := []struct {
		name   string
		stanza string // directives inside the block; %PID% is this process
		sighup bool   // the stanza signals us and we call Reopen
		check  func(t *testing.T, s Stats, cycles int)
	}{
		{
			name:   "create",
			stanza: "create 0640\ncompress\ndelaycompress",
			check: func(t *testing.T, s Stats, cycles int) {
				if s.ExternalRotations != uint64(cycles) {
					t.Fatalf("ExternalRotations = %d, want %d", s.ExternalRotations, cycles)
				}
			},
		},
		{
			name:   "copytruncate",
			stanza: "copytruncate\ncompress",
			check: func(t *testing.T, s Stats, cycles int) {
				if s.Truncations != uint64(cycles) || s.ExternalRotations != 0 {
					t.Fatalf("Truncations %d ExternalRotations %d, want %d and 0", s.Truncations, s.ExternalRotations, cycles)
				}
			},
		},
		{
			name:   "nocreate with postrotate SIGHUP",
			stanza: "nocreate\ncompress\ndelaycompress\npostrotate\n  kill -HUP %PID%\nendscript",
			sighup: true,
			check: func(t *testing.T, s Stats, cycles int) {
				// Reopen ran before any write could notice the move.
				if s.Reopens != uint64(cycles) || s.ExternalRotations != 0 {
					t.Fatalf("Reopens %d ExternalRotations %d, want %d and 0", s.Reopens, s.ExternalRotations, cycles)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "alerts.jsonl")
			conf := filepath.Join(dir, "logrotate.conf")
			stanza := strings.ReplaceAll(tt.stanza, "%PID%", fmt.Sprint(os.Getpid()))
			cfg := fmt.Sprintf("%s {\n  rotate 20\n  missingok\n  %s\n}\n", path, strings.ReplaceAll(stanza, "\n", "\n  "))
			if err := os.WriteFile(conf, []byte(cfg), 0o644); err != nil {
				t.Fatal(err)
			}
			var hup chan os.Signal
			if tt.sighup {
				hup = make(chan os.Signal, 1)
				signal.Notify(hup, syscall.SIGHUP)
				defer signal.Stop(hup)
			}

			// The journal's own rotation is off: logrotate owns the file.
			j := mustOpen(t, path, Options{MaxSize: -1, MaxAge: -1})
			const cycles, per = 5, 40
			for c := range cycles {
				writeRange(t, j, c*per, (c+1)*per)
				out, err := exec.Command(bin, "-f", "-s", filepath.Join(dir, "state"), conf).CombinedOutput()
				if err != nil {
					t.Fatalf("logrotate: %v\n%s\nconfig:\n%s", err, out, cfg)
				}
				if tt.sighup {
					select {
					case <-hup:
					case <-time.After(30 * time.Second): // a guard, not a wait: the signal is sent before logrotate exits
						t.Fatal("no SIGHUP from postrotate")
					}
					if err := j.Reopen(); err != nil {
						t.Fatal(err)
					}
				}
			}
			writeRange(t, j, cycles*per, (cycles+1)*per)
			if err := j.Close(); err != nil {
				t.Fatal(err)
			}

			files := historyFiles(t, dir, "alerts.jsonl")
			var gz int
			for _, f := range files {
				if strings.HasSuffix(f, ".gz") {
					gz++
				}
			}
			if len(files) != cycles+1 || gz < cycles-1 {
				t.Fatalf("files %v: want the live file and %d rotated, at least %d gzipped", files, cycles, cycles-1)
			}
			checkHeaders(t, files)
			checkExactlyOnce(t, collectIDs(t, files), (cycles+1)*per)
			tt.check(t, j.Stats(), cycles)
		})
	}
}
