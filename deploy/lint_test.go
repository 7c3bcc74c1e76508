package deploy

import (
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// deployFiles are the files under deploy/ for which match is true, as paths
// relative to the module root.
func deployFiles(t *testing.T, match func(rel string, data []byte) bool) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(path("deploy"), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if match(filepath.ToSlash(rel), data) {
			out = append(out, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestYAMLLint runs yamllint (deploy/yamllint.yaml) on every YAML file under
// deploy/ but the chart's templates, which are not YAML until rendered
// (TestHelmChart lints what they render).
func TestYAMLLint(t *testing.T) {
	yamllint := tool(t, "yamllint", installYamllint)
	files := deployFiles(t, func(rel string, _ []byte) bool {
		ext := filepath.Ext(rel)
		return (ext == ".yaml" || ext == ".yml") && !strings.Contains(rel, "/templates/")
	})
	if len(files) < 5 {
		t.Fatalf("found only %v", files)
	}
	command(t, nil, nil, yamllint, append([]string{"--strict", "-c", path("deploy/yamllint.yaml")}, files...)...)
}

// TestShellCheck runs shellcheck on every shell script under deploy/.
func TestShellCheck(t *testing.T) {
	shellcheck := tool(t, "shellcheck", installShellcheck)
	scripts := deployFiles(t, func(rel string, data []byte) bool {
		return strings.HasSuffix(rel, ".sh") || regexp.MustCompile(`^#!\s*/(usr/)?bin/(env )?(ba|da)?sh\b`).Match(data)
	})
	if len(scripts) == 0 {
		t.Fatal("no scripts found; deploy/build.sh at least")
	}
	command(t, nil, nil, shellcheck, scripts...)
}

// TestSystemdUnit validates deploy/systemd/config.yaml, runs `systemd-analyze verify` on the unit (ExecStart
// pointed at the binary TestMain built, since verify wants it to exist) and
// `systemd-analyze security`, which must rate its exposure at most 2.0 of
// 10, and checks what the unit promises: StateDirectory, ProtectSystem=strict,
// NoNewPrivileges, ExecReload with SIGHUP, Restart=on-failure, MemoryMax.
func TestSystemdUnit(t *testing.T) {
	unit := readFile(t, "deploy/systemd/burnwatch.service")
	for _, want := range []string{
		"ExecStart=/usr/local/bin/burnwatch --config=/etc/burnwatch/config.yaml",
		"ExecReload=/bin/kill -HUP $MAINPID", "Restart=on-failure", "User=burnwatch",
		"StateDirectory=burnwatch", "ProtectSystem=strict", "NoNewPrivileges=yes", "MemoryMax=", "Environment=GOMEMLIMIT=",
	} {
		if !strings.Contains(unit, "\n"+want) {
			t.Errorf("burnwatch.service: no %s", want)
		}
	}
	if sysusers := readFile(t, "deploy/systemd/burnwatch.sysusers"); !regexp.MustCompile(`(?m)^u burnwatch `).MatchString(sysusers) {
		t.Error("burnwatch.sysusers does not create the burnwatch user the unit runs as")
	}

	// The config the unit runs: valid, its state in the StateDirectory,
	// where the logrotate snippet finds the history.
	cfg := readFile(t, "deploy/systemd/config.yaml")
	validate(t, cfg, nil)
	if !strings.Contains(cfg, "directory: /var/lib/burnwatch\n") {
		t.Error("deploy/systemd/config.yaml: storage.directory is not /var/lib/burnwatch, the unit's StateDirectory")
	}

	analyze := tool(t, "systemd-analyze", installSystemd)
	file := filepath.Join(t.TempDir(), "burnwatch.service")
	if err := os.WriteFile(file, []byte(strings.ReplaceAll(unit, "/usr/local/bin/burnwatch", binary)), 0o644); err != nil {
		t.Fatal(err)
	}
	command(t, nil, nil, analyze, "verify", file)
	out, err := tryCommand(nil, nil, analyze, "security", "--offline=yes", "--threshold=20", file)
	if err != nil {
		if strings.Contains(out, "unrecognized option") {
			t.Skipf("systemd-analyze security --offline needs systemd 250: %s", out)
		}
		t.Errorf("systemd-analyze security rates the unit's exposure above 2.0: %v\n%s", err, out)
	}
}

// TestLogrotate checks the logrotate snippet: its stanza is the create-mode
// stanza of docs/operations.md (which storage/journal's tests run against
// the daemon), and the real logrotate runs it: the history is renamed to
// alerts.jsonl.1, a new empty file is created, and postrotate runs. For the
// run the path, the user and the postrotate command point into a temporary
// directory.
func TestLogrotate(t *testing.T) {
	snippet := readFile(t, "deploy/logrotate/burnwatch")
	stanza := func(text string) []string {
		start := strings.Index(text, "/var/lib/burnwatch/history/alerts.jsonl {")
		if start < 0 {
			return nil
		}
		end := strings.Index(text[start:], "\n}")
		var lines []string
		for _, l := range strings.Split(text[start:start+end+2], "\n") {
			lines = append(lines, strings.TrimSpace(l))
		}
		return lines
	}
	ops := readFile(t, "docs/operations.md")
	createMode := ops[strings.Index(ops, "Create mode"):]
	if got, want := stanza(snippet), stanza(createMode); want == nil || strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("deploy/logrotate/burnwatch:\n%s\nwant docs/operations.md's create-mode stanza:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	logrotate := tool(t, "logrotate", installLogrotate)
	dir := t.TempDir()
	history := filepath.Join(dir, "history")
	if err := os.MkdirAll(history, 0o750); err != nil {
		t.Fatal(err)
	}
	live := filepath.Join(history, "alerts.jsonl")
	if err := os.WriteFile(live, []byte(`{"type":"header","version":1}`+"\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	me, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	group, err := user.LookupGroupId(me.Gid)
	if err != nil {
		t.Fatal(err)
	}
	hup := filepath.Join(dir, "hup")
	conf := strings.NewReplacer(
		"/var/lib/burnwatch/history/alerts.jsonl", live,
		"create 0640 burnwatch burnwatch", "create 0640 "+me.Username+" "+group.Name,
		"systemctl kill -s HUP burnwatch.service 2>/dev/null || true", "touch "+hup,
	).Replace(snippet)
	if !strings.Contains(conf, "touch "+hup) || !strings.Contains(conf, live) {
		t.Fatalf("the snippet's path or postrotate changed; update this test:\n%s", snippet)
	}
	confFile := filepath.Join(dir, "burnwatch.conf")
	if err := os.WriteFile(confFile, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	command(t, nil, nil, logrotate, "--force", "--state", filepath.Join(dir, "state"), confFile)
	if b, err := os.ReadFile(live + ".1"); err != nil || !strings.Contains(string(b), "header") {
		t.Errorf("alerts.jsonl.1 after rotation: %q, %v (delaycompress keeps it plain)", b, err)
	}
	if fi, err := os.Stat(live); err != nil || fi.Size() != 0 {
		t.Errorf("alerts.jsonl after rotation: want a new empty file (create), got %v", err)
	}
	if !fileExists(hup) {
		t.Error("postrotate did not run")
	}
}

// TestDeployDocNamesRealFiles checks that every deploy/ path docs/deploy.md
// names exists.
func TestDeployDocNamesRealFiles(t *testing.T) {
	doc := readFile(t, "docs/deploy.md")
	names := regexp.MustCompile("(?:^|[\\s(`])(deploy/[A-Za-z0-9_./*-]+)").FindAllStringSubmatch(doc, -1)
	if len(names) < 10 {
		t.Fatalf("found only %d deploy/ paths in docs/deploy.md", len(names))
	}
	for _, m := range names {
		p := strings.TrimRight(m[1], ".,:")
		if p == "deploy/shop" { // kubectl logs deploy/shop: a Deployment
			continue
		}
		if matches, _ := filepath.Glob(path(p)); len(matches) == 0 {
			t.Errorf("docs/deploy.md names %s, which does not exist", p)
		}
	}
}
