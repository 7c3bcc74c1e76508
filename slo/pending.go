package slo

import "github.com/burnwatch/burnwatch/slo/sketch"

// With Options.Deltas, every SLO and flow keeps what it observed since the
// last AppendDelta or AppendSnapshot, keyed by absolute base slot: a short
// list, since events arrive in time order give or take the allowed
// lateness. The entry of the last event is remembered so that the next
// event of the same slot costs no division and no search.

// slotCounts are the counts of one base slot.
type slotCounts struct {
	k int64
	c counts
}

// pendCounts are an SLO's counts since the last delta.
type pendCounts struct {
	base     int64
	entries  []slotCounts
	cur      int // entry of the last event; -1 for none
	curStart int64
}

func (p *pendCounts) add(t int64, c counts) {
	if p.cur < 0 || t < p.curStart || t-p.curStart >= p.base {
		p.find(floorDiv(t, p.base))
	}
	p.entries[p.cur].c.add(c)
}

func (p *pendCounts) addSlot(k int64, c counts) {
	p.find(k)
	p.entries[p.cur].c.add(c)
}

// find makes the entry of slot k current, adding it if it is new.
func (p *pendCounts) find(k int64) {
	i := len(p.entries) - 1
	for i >= 0 && p.entries[i].k != k {
		i--
	}
	if i < 0 {
		p.entries = append(p.entries, slotCounts{k: k})
		i = len(p.entries) - 1
	}
	p.cur, p.curStart = i, k*p.base
}

func (p *pendCounts) reset() {
	p.entries = p.entries[:0]
	p.cur = -1
}

// slotHist is the latencies of one base slot.
type slotHist struct {
	k int64
	h *sketch.Histogram
}

// pendHists are a flow's latencies since the last delta. Histograms are
// reused once a delta has taken them.
type pendHists struct {
	base     int64
	entries  []slotHist
	spare    []*sketch.Histogram
	cur      int
	curStart int64
}

func (p *pendHists) record(t, d int64) {
	if p.cur < 0 || t < p.curStart || t-p.curStart >= p.base {
		p.find(floorDiv(t, p.base))
	}
	p.entries[p.cur].h.Record(d)
}

func (p *pendHists) find(k int64) {
	i := len(p.entries) - 1
	for i >= 0 && p.entries[i].k != k {
		i--
	}
	if i < 0 {
		var h *sketch.Histogram
		if n := len(p.spare); n > 0 {
			h, p.spare = p.spare[n-1], p.spare[:n-1]
		} else {
			h = new(sketch.Histogram)
		}
		p.entries = append(p.entries, slotHist{k: k, h: h})
		i = len(p.entries) - 1
	}
	p.cur, p.curStart = i, k*p.base
}

func (p *pendHists) reset() {
	for _, e := range p.entries {
		e.h.Reset()
		p.spare = append(p.spare, e.h)
	}
	clear(p.entries)
	p.entries = p.entries[:0]
	p.cur = -1
}
