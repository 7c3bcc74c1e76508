//go:build burnwatch_testclock

package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/burnwatch/burnwatch/app"
	"github.com/burnwatch/burnwatch/extensions/burnwatchextension"
)

// A binary built with -tags burnwatch_testclock reads its clock from
// BURNWATCH_TEST_CLOCK="origin=UNIXNANO,start=UNIXNANO,speed=N" (see
// app.FastClock), so the end-to-end tests can live through an hour of
// one-minute slices in seconds. Release builds have no such knob.
func init() {
	v := os.Getenv("BURNWATCH_TEST_CLOCK")
	if v == "" {
		return
	}
	c, err := parseTestClock(v)
	if err != nil {
		fmt.Fprintln(os.Stderr, "BURNWATCH_TEST_CLOCK:", err)
		os.Exit(2)
	}
	extensionOptions = append(extensionOptions, burnwatchextension.WithClock(c))
}

func parseTestClock(v string) (app.FastClock, error) {
	var c app.FastClock
	for _, kv := range strings.Split(v, ",") {
		k, val, _ := strings.Cut(kv, "=")
		switch k {
		case "origin", "start":
			n, err := strconv.ParseInt(val, 10, 64)
			if err != nil {
				return c, fmt.Errorf("%s: %w", k, err)
			}
			if k == "origin" {
				c.Origin = time.Unix(0, n)
			} else {
				c.Start = time.Unix(0, n)
			}
		case "speed":
			f, err := strconv.ParseFloat(val, 64)
			if err != nil || f <= 0 {
				return c, fmt.Errorf("speed %q is not a positive number", val)
			}
			c.Speed = f
		default:
			return c, fmt.Errorf("unknown key %q (want origin, start, speed)", k)
		}
	}
	if c.Origin.IsZero() || c.Start.IsZero() || c.Speed == 0 {
		return c, fmt.Errorf("want origin, start and speed, got %q", v)
	}
	return c, nil
}
