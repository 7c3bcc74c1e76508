package sketch

// Sparse is a histogram's non-empty buckets as a list, for adding one
// histogram into many: MergeSparse costs its non-empty buckets, where Merge
// costs the range between its lowest and highest bucket, which a few
// values far apart make wide (ten latencies from 10 ms to 1 s span two
// hundred buckets at DefaultScale). A gateway merging an agent's slot
// into a dozen window histograms builds it once.
type Sparse struct {
	scale                     int
	idx                       []int32
	n                         []uint64
	zero, count, sumHi, sumLo uint64
}

// Sparse sets s to h's data, reusing s's storage.
func (h *Histogram) Sparse(s *Sparse) {
	s.scale, s.zero, s.count, s.sumHi, s.sumLo = h.Scale(), h.zero, h.count, h.sumHi, h.sumLo
	s.idx, s.n = s.idx[:0], s.n[:0]
	if h.n == 0 {
		return
	}
	for i := h.lo; i <= h.hi(); i++ {
		if n := h.c.at(i - h.base); n != 0 {
			s.idx = append(s.idx, i)
			s.n = append(s.n, n)
		}
	}
}

// Len returns the number of non-empty buckets in s.
func (s *Sparse) Len() int { return len(s.idx) }

// MergeSparse adds the data of the histogram s was made from to h, exactly
// as Merge would.
func (h *Histogram) MergeSparse(s *Sparse) {
	if len(s.idx) > 0 {
		h.prepare(s.scale, s.idx[0], s.idx[len(s.idx)-1])
		d := s.scale - h.Scale()
		for j, i := range s.idx {
			if n := s.n[j]; !h.c.add(i>>d-h.base, n) {
				h.c.addWiden(i>>d-h.base, n)
			}
		}
	} else if s.scale < h.Scale() {
		h.downscale(h.Scale() - s.scale)
	}
	h.zero += s.zero
	h.count += s.count
	h.addSum(s.sumHi, s.sumLo)
}

// MergeSparse adds the data of the histogram s was made from to t, as
// Merge would.
func (t *Tracked) MergeSparse(s *Sparse) {
	t.h.MergeSparse(s)
	if t.valid() {
		t.countSparse(s)
	}
}

// countSparse is count's walk over s's non-empty buckets: a bucket without
// values moves no cursor's numbers.
func (t *Tracked) countSparse(s *Sparse) {
	d := s.scale - int(t.scale)
	if d < 0 {
		t.set = false
		return
	}
	below, in, tb := s.zero, uint64(0), int32(0)
	k := 0
	if len(s.idx) > 0 {
		tb = s.idx[0] >> d
		for j, i := range s.idx {
			if k >= len(t.cur) {
				break
			}
			if i>>d != tb {
				below, in, tb = below+in, 0, i>>d
			}
			for k < len(t.cur) && t.cur[k].b < tb {
				t.update(k, below+in, 0, false)
				k++
			}
			in += s.n[j]
			// Cursors on tb take it when the walk leaves tb.
			if j == len(s.idx)-1 || s.idx[j+1]>>d != tb {
				for k < len(t.cur) && t.cur[k].b == tb {
					t.update(k, below+in, in, false)
					k++
				}
			}
		}
	}
	for ; k < len(t.cur); k++ {
		t.update(k, below+in, 0, false)
	}
}
