// Package durable holds the file-system steps that every storage package
// needs to make a change survive a power cut (the atomic write of a new file,
// fsyncs of files and directories, counted), the classification of disk
// errors that the packages count in their Stats, and the checks that notice a
// directory or an open file removed underneath a running store
// (storage.ErrVanished).
package durable
