// Package durable holds the few file-system steps that every storage package
// needs to make a change survive a power cut, and the classification of disk
// errors that the packages count in their Stats.
package durable
