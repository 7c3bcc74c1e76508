package specs

import (
	"fmt"
	"strconv"
)

// Error is one problem in a spec file. Load and Parse return them joined
// (errors.Join); find them with errors.As.
type Error struct {
	// File is the file name as given to Parse or found by Load; empty for
	// specs built in code.
	File string
	// Line is 1-based; 0 when unknown.
	Line int
	// Column is 1-based, given where it helps (a position inside a PromQL
	// query); 0 otherwise.
	Column int
	// Path is the key path inside the document, e.g. "spec.match[1].regex";
	// empty for a problem with the file or document as a whole.
	Path string
	Err  error
}

// Error formats the problem as "file:line: path: message", or
// "file:line:column: path: message" when the column is known.
func (e *Error) Error() string {
	var b []byte
	if e.File != "" {
		b = append(b, e.File...)
		if e.Line > 0 {
			b = append(b, ':')
			b = strconv.AppendInt(b, int64(e.Line), 10)
			if e.Column > 0 {
				b = append(b, ':')
				b = strconv.AppendInt(b, int64(e.Column), 10)
			}
		}
		b = append(b, ": "...)
	}
	if e.Path != "" {
		b = append(b, e.Path...)
		b = append(b, ": "...)
	}
	b = append(b, e.Err.Error()...)
	return string(b)
}

// Unwrap returns the underlying problem.
func (e *Error) Unwrap() error { return e.Err }

// position is where a document or value was written.
type position struct {
	file string
	line int
}

func (p position) String() string {
	if p.file == "" {
		return "(built in code)"
	}
	return fmt.Sprintf("%s:%d", p.file, p.line)
}

func (p position) errorf(path, format string, args ...any) *Error {
	return &Error{File: p.file, Line: p.line, Path: path, Err: fmt.Errorf(format, args...)}
}
