package specs

import (
	"embed"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// BuiltinPrefix marks a pattern that names spec files built into the
// binary rather than on disk: "builtin:examples.yaml" is the example flows
// and SLOs the default configuration loads.
const BuiltinPrefix = "builtin:"

//go:embed examples/*.yaml
var builtin embed.FS

const builtinDir = "examples/"

// globFile expands one pattern into file names, built in or on disk.
func globFile(pattern string) ([]string, error) {
	rest, ok := strings.CutPrefix(pattern, BuiltinPrefix)
	if !ok {
		return filepath.Glob(pattern)
	}
	matches, err := fs.Glob(builtin, builtinDir+rest)
	for i, m := range matches {
		matches[i] = BuiltinPrefix + strings.TrimPrefix(m, builtinDir)
	}
	return matches, err
}

// readFile reads a file that globFile returned.
func readFile(name string) ([]byte, error) {
	if rest, ok := strings.CutPrefix(name, BuiltinPrefix); ok {
		return builtin.ReadFile(builtinDir + rest)
	}
	return os.ReadFile(name)
}
