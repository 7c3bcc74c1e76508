package slo

// exemplars are the newest bad events by event time, newest first; among
// equal times the later observed comes first.
type exemplars struct {
	n  int
	ex [maxExemplars]Exemplar
}

func (x *exemplars) add(e Exemplar) {
	i := 0
	for i < x.n && x.ex[i].End > e.End {
		i++
	}
	if i == maxExemplars {
		return
	}
	x.n = min(x.n+1, maxExemplars)
	copy(x.ex[i+1:x.n], x.ex[i:x.n-1])
	x.ex[i] = e
}

// list copies the exemplars into dst, which has room for them.
func (x *exemplars) list(dst []Exemplar) []Exemplar {
	if x.n == 0 {
		return nil
	}
	return dst[:copy(dst, x.ex[:x.n])]
}

// since returns the prefix of list (newest first) with event times at or
// after start.
func (x *exemplars) since(list []Exemplar, start int64) []Exemplar {
	n := 0
	for n < len(list) && list[n].End >= start {
		n++
	}
	if n == 0 {
		return nil
	}
	return list[:n:n]
}
