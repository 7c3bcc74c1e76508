package sketch

// counters is a dense array of bucket counts packed into 64-bit words, with a
// width per counter of 8, 16, 32 or 64 bits that grows when a count would
// overflow it. Most histograms (a 10 s or 1 min slot of a ring) hold small
// counts, and 8-bit counters make them an eighth of the size of []uint64;
// only running totals pay for wide counters.
//
// Widths are powers of two so a counter never straddles two words.
type counters struct {
	words []uint64
	// wsh is log2(width/8): a counter is 8<<wsh bits wide. The zero value
	// means 8-bit counters.
	wsh uint8
}

// maxWsh is the wsh of 64-bit counters.
const maxWsh = 3

// len returns the number of counter positions.
func (c *counters) len() int32 { return int32(len(c.words) << (3 - c.wsh)) }

// Position p's counter is in word p>>(3-wsh) at bit (p<<(3+wsh))&63: the
// low 3-wsh bits of p pick the counter within the word, and shifting them
// left by log2(width) and keeping 6 bits gives its bit offset. The "& 3" and
// "& 63" change nothing but tell the compiler no shift reaches the word
// size, which keeps its guard code out of this hot path and add within the
// inlining budget.

// at returns the count at position p.
func (c *counters) at(p int32) uint64 {
	w := uint(c.wsh) & 3
	return (c.words[p>>(3-w)] >> ((uint(p) << (3 + w)) & 63)) & (^uint64(0) >> ((64 - 8<<w) & 63))
}

// add adds n at position p and reports true, or reports false and changes
// nothing if the result would not fit the counter width.
func (c *counters) add(p int32, n uint64) bool {
	w := uint(c.wsh) & 3
	q, sh := p>>(3-w), (uint(p)<<(3+w))&63
	mask := ^uint64(0) >> ((64 - 8<<w) & 63)
	word := c.words[q]
	if mask-(word>>sh)&mask < n {
		return false
	}
	c.words[q] = word + n<<sh
	return true
}

// addWiden adds n at position p, widening the counters as needed. 64-bit
// counters wrap like any uint64. Loops call add first, which inlines, and
// addWiden only when it fails.
func (c *counters) addWiden(p int32, n uint64) {
	for !c.add(p, n) {
		if c.wsh == maxWsh {
			c.words[p] += n
			return
		}
		c.widen(c.wsh + 1)
	}
}

// sub subtracts n from position p, which must hold at least n.
func (c *counters) sub(p int32, n uint64) {
	w := uint(c.wsh) & 3
	c.words[p>>(3-w)] -= n << ((uint(p) << (3 + w)) & 63)
}

// widen re-packs the counters at width 8<<wsh, keeping every position. It
// allocates, which happens at most three times in a histogram's life: a
// Reset keeps the width.
func (c *counters) widen(wsh uint8) {
	if wsh <= c.wsh {
		return
	}
	w := counters{words: make([]uint64, len(c.words)<<(wsh-c.wsh)), wsh: wsh}
	for p := range c.len() {
		if n := c.at(p); n != 0 {
			w.add(p, n)
		}
	}
	*c = w
}

// clear zeroes every counter, keeping storage and width.
func (c *counters) clear() { clear(c.words) }

// wshFor returns the narrowest width that holds n.
func wshFor(n uint64) uint8 {
	switch {
	case n <= 0xff:
		return 0
	case n <= 0xffff:
		return 1
	case n <= 0xffff_ffff:
		return 2
	}
	return 3
}
