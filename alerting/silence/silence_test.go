package silence

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)

func no() *bool { b := false; return &b }

func sil(ms ...Matcher) Silence {
	return Silence{Matchers: ms, StartsAt: t0, EndsAt: t0.Add(time.Hour), CreatedBy: "ops", Comment: "deploy"}
}

func TestSilencedOnlyWhileActive(t *testing.T) {
	st := New()
	s := sil(Matcher{Name: "slo", Value: "checkout"}, Matcher{Name: "tier", Value: "ticket-.*", IsRegex: true}, Matcher{Name: "team", Value: "ops", IsEqual: no()})
	s.StartsAt = t0.Add(time.Minute)
	id, err := st.Set(s, t0)
	if err != nil {
		t.Fatal(err)
	}
	ticket := map[string]string{"slo": "checkout", "tier": "ticket-fast", "team": "payments"}
	for _, tc := range []struct {
		at     time.Time
		labels map[string]string
		want   bool
	}{
		{t0, ticket, false}, // pending
		{t0.Add(time.Minute), ticket, true},
		{t0.Add(time.Minute), map[string]string{"slo": "checkout", "tier": "page-fast"}, false},
		{t0.Add(time.Minute), map[string]string{"slo": "checkout", "tier": "ticket-fast", "team": "ops"}, false},
		{t0.Add(time.Hour), ticket, false}, // expired
	} {
		if got := st.Silenced(tc.labels, tc.at); got != tc.want {
			t.Errorf("Silenced(%v) at %v = %v, want %v", tc.labels, tc.at, got, tc.want)
		}
	}
	if err := st.Expire(id, t0.Add(2*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if st.Silenced(ticket, t0.Add(3*time.Minute)) {
		t.Error("silenced after Expire")
	}
	if err := st.Expire(id, t0.Add(4*time.Minute)); err == nil {
		t.Error("expired twice")
	}
}

func TestSetRejects(t *testing.T) {
	for _, tc := range []struct {
		name string
		s    Silence
		want string
	}{
		{"no matchers", sil(), "matchers: at least one is required"},
		{"matches everything", sil(Matcher{Name: "slo", Value: ".*", IsRegex: true}), "must not match the empty string"},
		{"bad regex", sil(Matcher{Name: "slo", Value: "(", IsRegex: true}), "matchers[0]"},
		{"ends before it starts", Silence{Matchers: []Matcher{{Name: "a", Value: "b"}}, StartsAt: t0, EndsAt: t0, CreatedBy: "x", Comment: "y"}, "endsAt: must be after startsAt"},
		{"in the past", Silence{Matchers: []Matcher{{Name: "a", Value: "b"}}, StartsAt: t0.Add(-2 * time.Hour), EndsAt: t0.Add(-time.Hour), CreatedBy: "x", Comment: "y"}, "endsAt: is in the past"},
		{"no author", Silence{Matchers: []Matcher{{Name: "a", Value: "b"}}, StartsAt: t0, EndsAt: t0.Add(time.Hour), Comment: "y"}, "createdBy: required"},
		{"unknown id", Silence{ID: "nope", Matchers: []Matcher{{Name: "a", Value: "b"}}, StartsAt: t0, EndsAt: t0.Add(time.Hour), CreatedBy: "x", Comment: "y"}, "not found"},
	} {
		if _, err := New().Set(tc.s, t0); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Set = %v, want %q", tc.name, err, tc.want)
		}
	}
}

// TestUpdateActive: changing an active silence's matchers expires it and
// makes a new one; extending its end keeps it.
func TestUpdateActive(t *testing.T) {
	st := New()
	id, _ := st.Set(sil(Matcher{Name: "slo", Value: "checkout"}), t0)
	s, _ := st.Get(id)
	s.EndsAt = t0.Add(2 * time.Hour)
	if id2, err := st.Set(s, t0.Add(time.Minute)); err != nil || id2 != id {
		t.Fatalf("extend = %s, %v; want the same id", id2, err)
	}
	s.Matchers = []Matcher{{Name: "slo", Value: "login"}}
	id3, err := st.Set(s, t0.Add(2*time.Minute))
	if err != nil || id3 == id {
		t.Fatalf("rematch = %s, %v; want a new id", id3, err)
	}
	old, _ := st.Get(id)
	if old.State(t0.Add(3*time.Minute)) != StateExpired {
		t.Errorf("the replaced silence is %s, want expired", old.State(t0.Add(3*time.Minute)))
	}
}

// TestSnapshotRestoreAndRetention: silences survive a restart through JSON,
// and expired ones are dropped after the retention.
func TestSnapshotRestoreAndRetention(t *testing.T) {
	var saved []Silence
	st := New()
	st.OnChange = func(ss []Silence) { saved = ss }
	id, _ := st.Set(sil(Matcher{Name: "slo", Value: "checkout"}), t0)
	b, err := json.Marshal(saved)
	if err != nil {
		t.Fatal(err)
	}
	var back []Silence
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	after := New()
	if err := after.Restore(back); err != nil {
		t.Fatal(err)
	}
	if !after.Silenced(map[string]string{"slo": "checkout"}, t0.Add(time.Minute)) {
		t.Error("a restored silence does not silence")
	}
	if n := len(after.List(t0.Add(time.Hour + Retention))); n != 1 {
		t.Errorf("%d silences within retention, want 1", n)
	}
	if n := len(after.List(t0.Add(time.Hour + Retention + time.Second))); n != 0 {
		t.Errorf("%d silences after retention, want 0 (id %s)", n, id)
	}
}
