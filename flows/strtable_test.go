package flows

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// TestStrTable: the table finds exactly what a map of the same keys finds,
// for keys around the inline length, sharing heads or tails, empty, and
// set again with another id, at every size it grows through.
func TestStrTable(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	var tb strTable
	want := map[string]int32{}
	key := func() string {
		switch rng.IntN(5) {
		case 0:
			return strings.Repeat("x", rng.IntN(3*inlineKey)) // heads shared
		case 1:
			return fmt.Sprintf("/route/%d", rng.IntN(3000))
		case 2:
			return fmt.Sprintf("%s/%d", strings.Repeat("/checkout", 3), rng.IntN(3000)) // long, head shared
		case 3:
			return fmt.Sprintf("%d%s", rng.IntN(3000), strings.Repeat("y", inlineKey)) // tails shared
		}
		return ""
	}
	probe := func() {
		t.Helper()
		for range 200 {
			k := key()
			if got := tb.get(k); got != want[k] {
				t.Fatalf("get(%q) = %d, want %d (%d keys)", k, got, want[k], len(want))
			}
		}
		for k, id := range want {
			if got := tb.get(k); got != id {
				t.Fatalf("get(%q) = %d, want %d (%d keys)", k, got, id, len(want))
			}
		}
	}
	probe()
	if !tb.empty() {
		t.Fatal("a new table is not empty")
	}
	for i := range 3000 {
		k := key()
		id := int32(rng.IntN(1000) + 1)
		tb.set(k, id)
		want[k] = id
		if i%97 == 0 {
			probe()
		}
	}
	probe()
	if tb.n != len(want) || tb.empty() {
		t.Fatalf("%d keys in the table, %d set", tb.n, len(want))
	}
}

// TestStrTableComparesWholeKeys: a slot is told apart from a key of its
// hash and length by every byte, inline or not (a 64-bit hash collision
// is too rare to meet by chance, so holds is asked directly).
func TestStrTableComparesWholeKeys(t *testing.T) {
	var tb strTable
	long := "/checkout/checkout/cart/1"
	tb.set(long, 1)
	tb.set("/cart", 2)
	for _, sl := range tb.slots {
		if sl.hash == 0 {
			continue
		}
		k := "/cart"
		if sl.id == 1 {
			k = long
		}
		if !tb.holds(&sl, k) {
			t.Fatalf("slot of %q does not hold it", k)
		}
		for i := range len(k) {
			other := k[:i] + "#" + k[i+1:]
			if tb.holds(&sl, other) {
				t.Fatalf("slot of %q holds %q", k, other)
			}
		}
	}
}
