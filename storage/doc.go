// Package storage holds what Burnwatch keeps on disk so that a restart loses
// nothing: a segmented write-ahead log of engine input (package wal),
// checkpoints of the engine state (package checkpoint) and the human-readable
// alert history (package journal).
//
// A data directory looks like this (see docs/operations.md for the details):
//
//	data/
//	  wal/          00000001-00000000000000000001.wal.zst  sealed, compressed segments
//	                00000002-00000000000000052311.wal      the active segment
//	                LOCK                                   flock held by the running daemon
//	  checkpoints/  00000000000000000007.ckpt               newest N engine snapshots
//	  history/      alerts.jsonl                            current alert history
//	                alerts-20260102T150405Z.jsonl.zst       rotated, compressed history
//
// The packages are pure: they import neither the collector nor a logger.
// Problems are returned as errors (wrapped with %w, so errors.Is finds the
// syscall errno such as syscall.ENOSPC) and counted in a Stats snapshot that
// the host exports as metrics. A removed data directory makes no write fail
// (the kernel keeps open files without a name), so each store has a Check
// method that returns an error wrapping ErrVanished; the host calls it
// periodically and reopens.
package storage
