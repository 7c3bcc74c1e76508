package flowprocessor

import (
	"errors"

	"go.opentelemetry.io/collector/component"

	"github.com/burnwatch/burnwatch/extensions/burnwatchextension"
)

// Config is the flow processor's configuration:
//
//	processors:
//	  flow: {}                     # classifies with extensions: burnwatch
//	  flow/gateway:
//	    trust_annotations: true    # keep the flows agents set
type Config struct {
	// Extension names the burnwatch extension whose spec files define the
	// flows (default burnwatch).
	Extension component.ID `mapstructure:"extension"`
	// TrustAnnotations keeps the burnwatch.flow and burnwatch.error
	// attributes that spans arrive with, for a gateway whose agents
	// classified them. Off (the default), the processor removes them before
	// classifying, so a client cannot choose its spans' flow.
	TrustAnnotations bool `mapstructure:"trust_annotations"`
	// Files moved to the burnwatch extension; it is here only to say so.
	Files []string `mapstructure:"files"`
	// Keep the struct closed to unkeyed literals so fields can be added.
	_ struct{}
}

func createDefaultConfig() component.Config {
	return &Config{Extension: burnwatchextension.DefaultID}
}

// Validate checks the configuration; the spec files are the extension's.
func (c *Config) Validate() error {
	if len(c.Files) > 0 {
		return errors.New("files: moved to the burnwatch extension, which holds the spec files once for the whole daemon: " +
			"write them under extensions: burnwatch: files: [...], list burnwatch in service.extensions, and remove files from the flow processor")
	}
	return nil
}
