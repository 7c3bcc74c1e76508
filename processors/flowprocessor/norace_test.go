//go:build !race

package flowprocessor

const raceEnabled = false
