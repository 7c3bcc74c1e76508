package flowprocessor

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
)

// Config is the flow processor's configuration:
//
//	processors:
//	  flow:
//	    files: [/etc/burnwatch/specs/*.yaml]
type Config struct {
	// Files are the spec files that define flows and SLOs: paths or globs
	// (filepath.Match syntax), loaded in order when the processor is
	// created. Each pattern must match at least one file.
	Files []string `mapstructure:"files"`

	// Keep the struct closed to unkeyed literals so fields can be added.
	_ struct{}
}

// Validate checks the configuration without reading the files: the files
// themselves are checked, with file and line, when the processor is created.
func (c *Config) Validate() error {
	if len(c.Files) == 0 {
		return errors.New("files: at least one spec file or glob is required, e.g. files: [/etc/burnwatch/specs/*.yaml]")
	}
	var errs []error
	for i, f := range c.Files {
		if strings.TrimSpace(f) == "" {
			errs = append(errs, fmt.Errorf("files[%d]: is empty", i))
			continue
		}
		if _, err := filepath.Match(f, ""); err != nil {
			errs = append(errs, fmt.Errorf("files[%d]: %q is not a valid glob: %w", i, f, err))
		}
	}
	return errors.Join(errs...)
}
