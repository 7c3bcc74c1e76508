package deploy

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// binary is burnwatch as the image has it, built by TestMain with
// deploy/build.sh, the script the Dockerfile runs; binaryVersion is the
// version it was given.
var (
	binary        string
	binaryVersion = "0.0.0-deploytest"
)

// root is the module root, the parent of this package.
var root = func() string {
	wd, err := os.Getwd()
	if err != nil {
		panic(err)
	}
	return filepath.Dir(wd)
}()

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "burnwatch-deploy")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	binary = filepath.Join(dir, "burnwatch")
	cmd := exec.Command("sh", filepath.Join(root, "deploy", "build.sh"), binary, binaryVersion)
	// The script runs `go`: the toolchain running this test when it is
	// known, else the one on the PATH.
	cmd.Env = os.Environ()
	if goroot := runtime.GOROOT(); goroot != "" {
		cmd.Env = append(cmd.Env, "PATH="+filepath.Join(goroot, "bin")+string(os.PathListSeparator)+os.Getenv("PATH"))
	}
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "deploy/build.sh:", err)
		return 1
	}
	return m.Run()
}

// path is a file of the module by its slash-separated path.
func path(rel string) string { return filepath.Join(root, filepath.FromSlash(rel)) }

func readFile(t *testing.T, rel string) string {
	t.Helper()
	b, err := os.ReadFile(path(rel))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// tool finds a linter on the PATH (or, for helm, where `go install` puts
// it), or skips the test saying how to install it.
func tool(t *testing.T, name, install string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	if name == "helm" {
		if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
			for _, dir := range filepath.SplitList(strings.TrimSpace(string(out))) {
				if p := filepath.Join(dir, "bin", "helm"); fileExists(p) {
					return p
				}
			}
		}
	}
	t.Skipf("%s not found: %s", name, install)
	return ""
}

const (
	installHelm       = "go install helm.sh/helm/v3/cmd/helm@v3.22.0 (lands in $(go env GOPATH)/bin)"
	installYamllint   = "apt-get install yamllint"
	installShellcheck = "apt-get install shellcheck"
	installSystemd    = "apt-get install systemd"
	installLogrotate  = "apt-get install logrotate"
)

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// command runs a tool with a deadline and returns its combined output; a
// failure fails the test with that output.
func command(t *testing.T, stdin []byte, env []string, name string, args ...string) string {
	t.Helper()
	out, err := tryCommand(stdin, env, name, args...)
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", filepath.Base(name), strings.Join(args, " "), err, out)
	}
	return out
}

func tryCommand(stdin []byte, env []string, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = root
	if env != nil {
		cmd.Env = env
	}
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	out, err := cmd.CombinedOutput()
	return string(out), err
}
