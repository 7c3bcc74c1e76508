package deploy

import (
	"debug/buildinfo"
	"debug/elf"
	"encoding/json"
	"errors"
	"go/version"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/burnwatch/burnwatch/specs"
)

// TestImageBinaryIsStatic checks the binary deploy/build.sh makes, which is
// what the image ships: no dynamic loader and no shared libraries (it runs
// on distroless/static), stripped, built with -trimpath and CGO off, and
// stamped with the version it was given.
func TestImageBinaryIsStatic(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the image is linux; the ELF checks need a linux build")
	}
	f, err := elf.Open(binary)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		switch p.Type {
		case elf.PT_INTERP:
			t.Error("has a PT_INTERP program header: it needs a dynamic loader")
		case elf.PT_DYNAMIC:
			t.Error("has a PT_DYNAMIC program header: it is dynamically linked")
		}
	}
	libs, err := f.ImportedLibraries()
	if err != nil {
		t.Fatal(err)
	}
	if len(libs) > 0 {
		t.Errorf("needs shared libraries (DT_NEEDED): %v", libs)
	}
	if f.Section(".symtab") != nil {
		t.Error("has a symbol table: -ldflags -s did not apply")
	}
	if f.Section(".debug_info") != nil || f.Section(".zdebug_info") != nil {
		t.Error("has DWARF: -ldflags -w did not apply")
	}

	bi, err := buildinfo.ReadFile(binary)
	if err != nil {
		t.Fatal(err)
	}
	settings := map[string]string{}
	for _, s := range bi.Settings {
		settings[s.Key] = s.Value
	}
	for key, want := range map[string]string{"CGO_ENABLED": "0", "-trimpath": "true"} {
		if settings[key] != want {
			t.Errorf("build setting %s = %q, want %q", key, settings[key], want)
		}
	}
	// -trimpath keeps -ldflags out of the build info: the symbol table,
	// DWARF and the version show what they did.
	out := command(t, nil, nil, binary, "--version")
	if !strings.Contains(out, binaryVersion) {
		t.Errorf("burnwatch --version = %q, want the version given to deploy/build.sh, %s", out, binaryVersion)
	}
}

// instruction is one Dockerfile instruction, continuation lines joined.
type instruction struct {
	cmd, args string
	line      int
}

// parseDockerfile splits a Dockerfile into instructions and the final stage's.
func parseDockerfile(t *testing.T, text string) (all []instruction, final []instruction) {
	t.Helper()
	var cur strings.Builder
	start := 0
	for i, line := range strings.Split(text, "\n") {
		trimmed := strings.TrimSpace(line)
		if cur.Len() == 0 && (trimmed == "" || strings.HasPrefix(trimmed, "#")) {
			continue
		}
		if cur.Len() == 0 {
			start = i + 1
		} else if strings.HasPrefix(trimmed, "#") {
			continue // a comment inside a continued instruction
		}
		if body, ok := strings.CutSuffix(trimmed, `\`); ok {
			cur.WriteString(body + " ")
			continue
		}
		cur.WriteString(trimmed)
		cmd, args, _ := strings.Cut(cur.String(), " ")
		all = append(all, instruction{cmd: strings.ToUpper(cmd), args: strings.TrimSpace(args), line: start})
		cur.Reset()
	}
	for i, in := range all {
		if in.cmd == "FROM" {
			final = all[i:]
		}
	}
	return all, final
}

// words splits shell-like words, keeping double-quoted parts together.
func words(s string) []string {
	var out []string
	var w strings.Builder
	inQuote, inWord := false, false
	for _, r := range s {
		switch {
		case r == '"':
			inQuote, inWord = !inQuote, true
		case (r == ' ' || r == '\t') && !inQuote:
			if inWord {
				out = append(out, w.String())
			}
			w.Reset()
			inWord = false
		default:
			w.WriteRune(r)
			inWord = true
		}
	}
	if inWord {
		out = append(out, w.String())
	}
	return out
}

// dockerImage is what a test needs to know of the Dockerfile's final image.
type dockerImage struct {
	env        map[string]string
	copies     map[string]string // destination: source in the build context
	expose     []string
	volumes    []string
	user       string
	entrypoint []string
	cmd        []string
}

func readDockerfile(t *testing.T) (all []instruction, img dockerImage) {
	t.Helper()
	all, final := parseDockerfile(t, readFile(t, "Dockerfile"))
	img = dockerImage{env: map[string]string{}, copies: map[string]string{}}
	for _, in := range final {
		switch in.cmd {
		case "ENV":
			for _, kv := range words(in.args) {
				k, v, _ := strings.Cut(kv, "=")
				img.env[k] = v
			}
		case "COPY":
			ws := words(in.args)
			var from bool
			var paths []string
			for _, w := range ws {
				if strings.HasPrefix(w, "--from=") {
					from = true
				} else if !strings.HasPrefix(w, "--") {
					paths = append(paths, w)
				}
			}
			if !from && len(paths) == 2 {
				img.copies[paths[1]] = paths[0]
			}
		case "EXPOSE":
			img.expose = append(img.expose, words(in.args)...)
		case "VOLUME":
			var v []string
			if err := json.Unmarshal([]byte(in.args), &v); err != nil {
				v = words(in.args)
			}
			img.volumes = append(img.volumes, v...)
		case "USER":
			img.user = in.args
		case "ENTRYPOINT", "CMD":
			var v []string
			if err := json.Unmarshal([]byte(in.args), &v); err != nil {
				t.Errorf("Dockerfile:%d: %s %s: use the exec (JSON) form, so signals reach the daemon", in.line, in.cmd, in.args)
			}
			if in.cmd == "ENTRYPOINT" {
				img.entrypoint = v
			} else {
				img.cmd = v
			}
		}
	}
	return all, img
}

// TestDockerfile checks the Dockerfile's promises: a Go build stage at or
// above go.mod's version that runs deploy/build.sh; a distroless or scratch
// final image as uid 65532 with the daemon's three ports and a volume for its
// data; the embedded default config in the image, whose environment knobs
// the image sets to real ones (every ENV is a ${env:...} of the default) and
// which passes `burnwatch validate` with them; the spec files it points at
// are in the image and load.
func TestDockerfile(t *testing.T) {
	all, img := readDockerfile(t)

	goMod := readFile(t, "go.mod")
	m := regexp.MustCompile(`(?m)^go (\S+)`).FindStringSubmatch(goMod)
	if m == nil {
		t.Fatal("go.mod has no go line")
	}
	var goVersion, buildFrom string
	var runsBuildScript bool
	for _, in := range all {
		switch {
		case in.cmd == "ARG" && strings.HasPrefix(in.args, "GO_VERSION="):
			goVersion = strings.TrimPrefix(in.args, "GO_VERSION=")
		case in.cmd == "FROM" && buildFrom == "":
			buildFrom = in.args
		case in.cmd == "RUN" && strings.Contains(in.args, "deploy/build.sh"):
			runsBuildScript = true
		}
	}
	if !strings.Contains(buildFrom, "golang:${GO_VERSION}") {
		t.Errorf("first stage FROM %q: want golang:${GO_VERSION}", buildFrom)
	}
	if version.Compare("go"+goVersion, "go"+m[1]) < 0 {
		t.Errorf("ARG GO_VERSION=%s is below go.mod's go %s", goVersion, m[1])
	}
	if !runsBuildScript {
		t.Error("no RUN of deploy/build.sh: the image must be built the way TestImageBinaryIsStatic checks")
	}

	_, final := parseDockerfile(t, readFile(t, "Dockerfile"))
	if base := final[0].args; !strings.HasPrefix(base, "gcr.io/distroless/static") && base != "scratch" {
		t.Errorf("final stage FROM %q: want distroless/static or scratch", base)
	}
	if uid, _, _ := strings.Cut(img.user, ":"); uid != "65532" {
		t.Errorf("USER %q: want the numeric non-root uid 65532 (Kubernetes' runAsNonRoot checks a number)", img.user)
	}
	for _, port := range []string{"4317", "4318", "9464"} {
		if !slices.Contains(img.expose, port) {
			t.Errorf("EXPOSE %v: %s missing", img.expose, port)
		}
	}
	dataDir := img.env["BURNWATCH_DATA_DIR"]
	if dataDir != "/var/lib/burnwatch" || !slices.Contains(img.volumes, dataDir) {
		t.Errorf("BURNWATCH_DATA_DIR=%q and VOLUME %v: want /var/lib/burnwatch in both", dataDir, img.volumes)
	}
	if !slices.Equal(img.entrypoint, []string{"/usr/bin/burnwatch"}) || !slices.Contains(img.cmd, "--config=/etc/burnwatch/config.yaml") {
		t.Errorf("ENTRYPOINT %q CMD %q: want the binary and --config=/etc/burnwatch/config.yaml", img.entrypoint, img.cmd)
	}
	if src := img.copies["/etc/burnwatch/config.yaml"]; src != "cmd/burnwatch/default.yaml" {
		t.Errorf("/etc/burnwatch/config.yaml comes from %q, want cmd/burnwatch/default.yaml", src)
	}

	def := readFile(t, "cmd/burnwatch/default.yaml")
	for name, value := range img.env {
		if !strings.Contains(def, "${env:"+name+":-") {
			t.Errorf("ENV %s: not an environment knob of cmd/burnwatch/default.yaml", name)
		}
		if strings.HasSuffix(name, "_ENDPOINT") {
			host, port, _ := strings.Cut(value, ":")
			if host != "0.0.0.0" || !slices.Contains(img.expose, port) {
				t.Errorf("ENV %s=%s: want 0.0.0.0 and an exposed port", name, value)
			}
		}
	}
	env := append(baseEnv(), envList(img.env)...)
	command(t, nil, env, binary, "validate", "--config="+path("cmd/burnwatch/default.yaml"))

	// The spec files the image loads are in it, and load.
	pattern := img.env["BURNWATCH_SPECS"]
	var srcs []string
	for dst, src := range img.copies {
		if ok, _ := filepath.Match(pattern, dst); ok {
			srcs = append(srcs, path(src))
		}
	}
	if len(srcs) == 0 {
		t.Fatalf("BURNWATCH_SPECS=%q matches no file the image copies", pattern)
	}
	if _, err := specs.Load(srcs...); err != nil {
		t.Errorf("the image's spec files: %v", err)
	}
}

// baseEnv is the environment a validation runs in: no variable of this
// process leaks into what a config resolves.
func baseEnv() []string {
	return []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.TempDir()}
}

func envList(m map[string]string) []string {
	var out []string
	for k, v := range m {
		out = append(out, k+"="+v)
	}
	slices.Sort(out)
	return out
}

// dockerignore is a .dockerignore's patterns in order, with Docker's
// semantics: a path is excluded by the last pattern that matches it or one
// of its parent directories; "!" re-includes; "**" spans directories.
type dockerignore []struct {
	re      *regexp.Regexp
	include bool
}

func parseDockerignore(text string) dockerignore {
	var d dockerignore
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		include := strings.HasPrefix(line, "!")
		line = strings.TrimPrefix(filepath.ToSlash(filepath.Clean(strings.TrimPrefix(line, "!"))), "/")
		var re strings.Builder
		re.WriteString("^")
		for i := 0; i < len(line); i++ {
			switch c := line[i]; {
			case c == '*' && i+1 < len(line) && line[i+1] == '*':
				i++
				if i+1 < len(line) && line[i+1] == '/' {
					i++
					re.WriteString("(.*/)?")
				} else {
					re.WriteString(".*")
				}
			case c == '*':
				re.WriteString("[^/]*")
			case c == '?':
				re.WriteString("[^/]")
			default:
				re.WriteString(regexp.QuoteMeta(string(c)))
			}
		}
		re.WriteString("$")
		d = append(d, struct {
			re      *regexp.Regexp
			include bool
		}{regexp.MustCompile(re.String()), include})
	}
	return d
}

func (d dockerignore) excludes(rel string) bool {
	excluded := false
	for _, p := range d {
		for dir := rel; dir != "." && dir != "/"; dir = filepath.ToSlash(filepath.Dir(dir)) {
			if p.re.MatchString(dir) {
				excluded = !p.include
				break
			}
		}
	}
	return excluded
}

// TestDockerignore checks that the build context keeps every file
// `go build ./cmd/burnwatch` reads (Go, assembly and embedded files of the
// module's packages, as `go list -deps` reports them), go.mod, go.sum, the
// build script and what the final image copies, and that it leaves out the
// repository's history and local state.
func TestDockerignore(t *testing.T) {
	ignore := parseDockerignore(readFile(t, ".dockerignore"))
	_, img := readDockerfile(t)
	needed := []string{"go.mod", "go.sum", "deploy/build.sh"}
	for _, src := range img.copies {
		needed = append(needed, src)
	}

	list := exec.Command("go", "list", "-deps", "-json=Dir,GoFiles,SFiles,HFiles,EmbedFiles,Module", "./cmd/burnwatch")
	list.Dir = root
	list.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux")
	out, err := list.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("go list: %v\n%s", err, ee.Stderr)
		}
		t.Fatal(err)
	}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	packages := 0
	for {
		var pkg struct {
			Dir                                 string
			GoFiles, SFiles, HFiles, EmbedFiles []string
			Module                              *struct{ Main bool }
		}
		if err := dec.Decode(&pkg); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		if pkg.Module == nil || !pkg.Module.Main {
			continue
		}
		packages++
		for _, f := range slices.Concat(pkg.GoFiles, pkg.SFiles, pkg.HFiles, pkg.EmbedFiles) {
			rel, err := filepath.Rel(root, filepath.Join(pkg.Dir, f))
			if err != nil {
				t.Fatal(err)
			}
			needed = append(needed, filepath.ToSlash(rel))
		}
	}
	if packages < 5 {
		t.Fatalf("go list found %d of the module's packages in the build; expected the daemon's", packages)
	}
	slices.Sort(needed)
	for _, f := range slices.Compact(needed) {
		if ignore.excludes(f) {
			t.Errorf(".dockerignore leaves out %s, which the build reads", f)
		}
		if !fileExists(path(f)) {
			t.Errorf("%s: not in the repository", f)
		}
	}
	for _, f := range []string{".git/HEAD", "bin/burnwatch", "data/wal/LOCK", "deploy/helm/burnwatch/Chart.yaml", "docs/deploy.md"} {
		if !ignore.excludes(f) {
			t.Errorf(".dockerignore keeps %s in the build context", f)
		}
	}
}
