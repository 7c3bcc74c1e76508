package flows

import "hash/maphash"

// strTable maps strings to node ids (0: none; below 0, a flow: see
// shortcutLeaves), for the index's look-ups of
// a span's string values. A Go map keeps a string key as a pointer to its
// bytes, so each look-up that finds its slot reads the key's bytes from
// somewhere else: with thousands of flows both are cold, two cache misses
// per look-up. A slot here holds the key's hash, its length and its first
// inlineKey bytes, so a key that short (routes, service names) is compared
// within the slot, one miss in all. Open addressing with linear probing,
// at most half full.
type strTable struct {
	slots []strSlot
	// tails holds the bytes past inlineKey of longer keys.
	tails []byte
	n     int
	seed  maphash.Seed
}

const inlineKey = 16

type strSlot struct {
	hash uint64 // 0: empty
	id   int32
	len  uint32 // the key's length
	tail uint32 // where its bytes past inlineKey are in tails
	head [inlineKey]byte
}

// get returns the id of s, 0 if s is not in the table.
func (t *strTable) get(s string) int32 {
	if t.n == 0 {
		return 0
	}
	h := maphash.String(t.seed, s) | 1
	mask := uint64(len(t.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		sl := &t.slots[i]
		if sl.hash == 0 {
			return 0
		}
		if sl.hash == h && int(sl.len) == len(s) && t.holds(sl, s) {
			return sl.id
		}
	}
}

// holds says whether slot sl holds key s, of its length.
func (t *strTable) holds(sl *strSlot, s string) bool {
	k := min(len(s), inlineKey)
	if string(sl.head[:k]) != s[:k] {
		return false
	}
	return len(s) <= inlineKey || string(t.tails[sl.tail:int(sl.tail)+len(s)-inlineKey]) == s[inlineKey:]
}

// set maps s to id (not 0), replacing what s mapped to.
func (t *strTable) set(s string, id int32) {
	if t.n == 0 && t.slots == nil {
		t.seed = maphash.MakeSeed()
	}
	if 2*(t.n+1) > len(t.slots) {
		t.grow()
	}
	h := maphash.String(t.seed, s) | 1
	mask := uint64(len(t.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		sl := &t.slots[i]
		if sl.hash == h && int(sl.len) == len(s) && t.holds(sl, s) {
			sl.id = id
			return
		}
		if sl.hash == 0 {
			*sl = strSlot{hash: h, id: id, len: uint32(len(s))}
			copy(sl.head[:], s)
			if len(s) > inlineKey {
				sl.tail = uint32(len(t.tails))
				t.tails = append(t.tails, s[inlineKey:]...)
			}
			t.n++
			return
		}
	}
}

// grow doubles the slots (16 at first) and puts every key in again; the
// tails stay where they are.
func (t *strTable) grow() {
	old := t.slots
	t.slots = make([]strSlot, max(16, 2*len(old)))
	mask := uint64(len(t.slots) - 1)
	for _, sl := range old {
		if sl.hash == 0 {
			continue
		}
		i := sl.hash & mask
		for t.slots[i].hash != 0 {
			i = (i + 1) & mask
		}
		t.slots[i] = sl
	}
}

// empty says whether the table holds no key.
func (t *strTable) empty() bool { return t.n == 0 }
