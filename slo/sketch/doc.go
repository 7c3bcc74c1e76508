// Package sketch is the latency histogram behind per-flow percentiles and
// percentile SLOs: a base-2 exponential histogram at a fixed scale, with the
// bucket layout of OTel exponential histograms and Prometheus native
// histograms.
//
// Values are durations in nanoseconds (int64, as time.Duration), so the
// mapping from a value to its bucket is exact integer arithmetic; values <= 0
// go to a zero bucket. Bucket i at scale s covers (2^(i/2^s), 2^((i+1)/2^s)]
// ns, upper-inclusive as OTel defines it, so 2^k ns closes a bucket. The
// default scale 5 has 32 buckets per power of two and a Quantile estimate
// within 1.083% of the true value; CoarseScale (3) is for long tiers.
// Exported buckets are in nanoseconds: an OTel data point carries unit "ns";
// histograms in seconds from elsewhere cannot be re-bucketed exactly (10^9 is
// not a power of two).
//
// Histograms merge by adding counts and subtract exactly, so a window's
// running total can add its newest slot and subtract the evicted one. A
// histogram halves its scale (like the OTel SDK) only if its data spans more
// than its bucket bound, DefaultMaxBuckets: 32 powers of two at scale 5, so
// only garbage durations cost precision, and Scale reports it. Merging or
// subtracting histograms at different scales works at the coarser one.
//
// Memory: counts are packed 8, 16, 32 or 64 bits wide, widening on demand,
// over the range of buckets the data spans, so a one-minute slot of typical
// latencies takes a few hundred bytes and a running total a few KiB
// (SizeBytes). Record does not allocate once the storage covers the data.
//
// The package is pure: standard library only, no goroutines, no locks; a
// Histogram is not safe for concurrent use.
package sketch
