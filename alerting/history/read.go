package history

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Log is what Read makes of history files: their records in the order
// read, and how many lines were not records, with the first few.
type Log struct {
	Files             []string
	Records           []Record
	Malformed         int
	MalformedExamples []LineError
}

// maxMalformedExamples bounds Log.MalformedExamples.
const maxMalformedExamples = 3

// LineError is a line of a history file that is not a record. Record
// counts the file's non-empty lines after its header, from 1.
type LineError struct {
	File   string
	Record int
	Err    error
}

func (e LineError) String() string {
	return fmt.Sprintf("%s: record %d: %v", e.File, e.Record, e.Err)
}

// Files expands patterns, files or globs (filepath.Match syntax), into the
// history files they name: each pattern's matches sorted by name, in the
// order of the patterns, each file once. A pattern that names no file is an
// error. A rotated file being compressed is there twice for a moment,
// alerts-….jsonl and alerts-….jsonl.zst: the compressed copy is left out
// then, as it may be incomplete.
func Files(patterns []string) ([]string, error) {
	var files []string
	seen := map[string]bool{}
	for _, p := range patterns {
		matches, err := filepath.Glob(p)
		if err != nil {
			return nil, fmt.Errorf("%q: %w", p, err)
		}
		n := 0
		for _, m := range matches {
			if fi, err := os.Stat(m); err != nil || fi.IsDir() {
				continue
			}
			n++
			if !seen[m] {
				seen[m] = true
				files = append(files, m)
			}
		}
		if n == 0 {
			return nil, fmt.Errorf("%q matches no file: %w", p, fs.ErrNotExist)
		}
	}
	return slices.DeleteFunc(files, func(f string) bool {
		for _, ext := range []string{".zst", ".gz"} {
			if plain, ok := strings.CutSuffix(f, ext); ok && seen[plain] {
				return true
			}
		}
		return false
	}), nil
}

// LineReader calls fn with each record line of a history file, plain or
// compressed, its header skipped: storage/journal.ReadFile. (This package
// is pure: the caller brings the reading.)
type LineReader func(name string, fn func(line []byte) error) error

// Read reads the records of history files with readFile. A line that is not
// a JSON object is counted in Log.Malformed; a file that cannot be read is
// an error.
func Read(files []string, readFile LineReader) (Log, error) {
	log := Log{Files: files}
	for _, name := range files {
		n := 0
		err := readFile(name, func(line []byte) error {
			n++
			var r Record
			if err := json.Unmarshal(line, &r); err != nil {
				if log.Malformed++; len(log.MalformedExamples) < maxMalformedExamples {
					log.MalformedExamples = append(log.MalformedExamples, LineError{File: name, Record: n, Err: err})
				}
				return nil
			}
			log.Records = append(log.Records, r)
			return nil
		})
		if err != nil {
			return log, err
		}
	}
	return log, nil
}
