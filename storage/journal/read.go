package journal

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/klauspost/compress/zstd"
)

// MaxLineSize bounds the line ReadFile accepts.
const MaxLineSize = 64 << 20

// ReadFile calls fn with each record line of a journal file, without the
// newline and skipping the header line. Files ending in .zst or .gz are
// decompressed, so logrotate's and the journal's own rotated files read
// alike. The line is only valid during the call.
func ReadFile(name string, fn func(line []byte) error) error {
	f, err := os.Open(name)
	if err != nil {
		return fmt.Errorf("journal: read: %w", err)
	}
	defer f.Close()
	var r io.Reader = f
	switch {
	case strings.HasSuffix(name, ".gz"):
		gz, err := gzip.NewReader(f)
		if err != nil {
			return fmt.Errorf("journal: read %s: %w", name, err)
		}
		defer gz.Close()
		r = gz
	case strings.HasSuffix(name, ".zst"):
		dec, err := zstd.NewReader(f, zstd.WithDecoderConcurrency(1))
		if err != nil {
			return fmt.Errorf("journal: read %s: %w", name, err)
		}
		defer dec.Close()
		r = dec
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), MaxLineSize)
	first := true
	for sc.Scan() {
		line := sc.Bytes()
		if first {
			first = false
			if isHeader(line) {
				continue
			}
		}
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		if err := fn(line); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("journal: read %s: %w", name, err)
	}
	return nil
}

func isHeader(line []byte) bool {
	var h Header
	return json.Unmarshal(line, &h) == nil && h.Type == "header"
}
