// Package silence keeps silences, Alertmanager's: matchers that mute the
// alerts they match from a start to an end time. The store is pure (no
// disk, no logger); the daemon persists its Snapshot and serves it over an
// Alertmanager-compatible API, so amtool works against it.
package silence

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/burnwatch/burnwatch/alerting"
)

// States of a silence.
const (
	StatePending = "pending"
	StateActive  = "active"
	StateExpired = "expired"
)

// Matcher is a silence matcher in Alertmanager's API shape.
type Matcher struct {
	Name    string `json:"name"`
	Value   string `json:"value"`
	IsRegex bool   `json:"isRegex"`
	// IsEqual is false for != and !~; absent means true.
	IsEqual *bool `json:"isEqual,omitempty"`
}

func (m Matcher) compile() (alerting.Matcher, error) {
	eq := m.IsEqual == nil || *m.IsEqual
	t := alerting.MatchEqual
	switch {
	case m.IsRegex && eq:
		t = alerting.MatchRegexp
	case m.IsRegex:
		t = alerting.MatchNotRegexp
	case !eq:
		t = alerting.MatchNotEqual
	}
	return alerting.NewMatcher(t, m.Name, m.Value)
}

// Silence mutes the alerts its matchers all match, from StartsAt to EndsAt.
type Silence struct {
	ID        string    `json:"id"`
	Matchers  []Matcher `json:"matchers"`
	StartsAt  time.Time `json:"startsAt"`
	EndsAt    time.Time `json:"endsAt"`
	UpdatedAt time.Time `json:"updatedAt"`
	CreatedBy string    `json:"createdBy"`
	Comment   string    `json:"comment"`

	matchers alerting.Matchers
}

// State is the silence's state at now.
func (s *Silence) State(now time.Time) string {
	switch {
	case now.Before(s.StartsAt):
		return StatePending
	case now.Before(s.EndsAt):
		return StateActive
	}
	return StateExpired
}

// Retention is how long an expired silence is kept, as Alertmanager's
// default --data.retention.
const Retention = 120 * time.Hour

// Store keeps silences. It is safe for concurrent use.
type Store struct {
	// OnChange, when set, is called after every change with the new
	// snapshot, under the store's lock: the daemon writes it ahead.
	OnChange func([]Silence)

	mu       sync.Mutex
	silences map[string]*Silence
}

// New returns an empty Store.
func New() *Store { return &Store{silences: map[string]*Silence{}} }

// Set creates a silence, or updates the one s.ID names, at now, and
// returns its ID. As in Alertmanager, a change to an active silence other
// than its end or comment expires it and creates a new one; an expired one
// cannot be changed.
func (st *Store) Set(s Silence, now time.Time) (string, error) {
	if err := s.check(now); err != nil {
		return "", err
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if s.ID != "" {
		old, ok := st.silences[s.ID]
		if !ok {
			return "", fmt.Errorf("silence %s not found", s.ID)
		}
		switch old.State(now) {
		case StateExpired:
			return "", fmt.Errorf("silence %s has expired and cannot be changed", s.ID)
		case StateActive:
			if !sameMatchers(old.Matchers, s.Matchers) || !old.StartsAt.Equal(s.StartsAt) {
				old.EndsAt, old.UpdatedAt = now, now
				s.ID = ""
			}
		}
	}
	if s.ID == "" {
		s.ID = newID()
	}
	s.UpdatedAt = now
	stored := s
	st.silences[s.ID] = &stored
	st.changed()
	return s.ID, nil
}

// Expire ends a silence at now.
func (st *Store) Expire(id string, now time.Time) error {
	st.mu.Lock()
	defer st.mu.Unlock()
	s, ok := st.silences[id]
	if !ok {
		return fmt.Errorf("silence %s not found", id)
	}
	if s.State(now) == StateExpired {
		return fmt.Errorf("silence %s has already expired", id)
	}
	if s.StartsAt.After(now) {
		s.StartsAt = now
	}
	s.EndsAt, s.UpdatedAt = now, now
	st.changed()
	return nil
}

// Get returns one silence.
func (st *Store) Get(id string) (Silence, bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	s, ok := st.silences[id]
	if !ok {
		return Silence{}, false
	}
	return *s, true
}

// List returns every silence kept, newest update first, after dropping
// those expired for longer than Retention.
func (st *Store) List(now time.Time) []Silence {
	st.mu.Lock()
	defer st.mu.Unlock()
	gc := false
	for id, s := range st.silences {
		if now.Sub(s.EndsAt) > Retention {
			delete(st.silences, id)
			gc = true
		}
	}
	if gc {
		st.changed()
	}
	return st.snapshotLocked()
}

// Silenced reports whether an active silence matches labels at now.
func (st *Store) Silenced(labels map[string]string, now time.Time) bool {
	return len(st.SilencedBy(labels, now)) > 0
}

// SilencedBy returns the IDs of the active silences that match labels.
func (st *Store) SilencedBy(labels map[string]string, now time.Time) []string {
	st.mu.Lock()
	defer st.mu.Unlock()
	var ids []string
	for _, s := range st.silences {
		if s.State(now) == StateActive && s.matchers.Matches(labels) {
			ids = append(ids, s.ID)
		}
	}
	sort.Strings(ids)
	return ids
}

// Snapshot returns every silence, for persistence.
func (st *Store) Snapshot() []Silence {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.snapshotLocked()
}

// Restore replaces the silences with a Snapshot; ones that no longer
// compile are dropped and reported.
func (st *Store) Restore(ss []Silence) error {
	m := make(map[string]*Silence, len(ss))
	var errs []error
	for _, s := range ss {
		if err := s.compile(); err != nil {
			errs = append(errs, fmt.Errorf("silence %s: %w", s.ID, err))
			continue
		}
		c := s
		m[s.ID] = &c
	}
	st.mu.Lock()
	st.silences = m
	st.mu.Unlock()
	return errors.Join(errs...)
}

func (st *Store) snapshotLocked() []Silence {
	out := make([]Silence, 0, len(st.silences))
	for _, s := range st.silences {
		out = append(out, *s)
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].UpdatedAt.Equal(out[j].UpdatedAt) {
			return out[i].UpdatedAt.After(out[j].UpdatedAt)
		}
		return out[i].ID < out[j].ID
	})
	return out
}

func (st *Store) changed() {
	if st.OnChange != nil {
		st.OnChange(st.snapshotLocked())
	}
}

// check validates a silence as Alertmanager does and compiles its
// matchers.
func (s *Silence) check(now time.Time) error {
	var errs []error
	if len(s.Matchers) == 0 {
		errs = append(errs, errors.New("matchers: at least one is required"))
	}
	if err := s.compile(); err != nil {
		errs = append(errs, err)
	} else if s.matchers.Matches(map[string]string{}) {
		errs = append(errs, errors.New("matchers: at least one must not match the empty string, or the silence mutes every alert"))
	}
	if s.StartsAt.IsZero() || s.EndsAt.IsZero() {
		errs = append(errs, errors.New("startsAt, endsAt: both are required"))
	} else if !s.EndsAt.After(s.StartsAt) {
		errs = append(errs, errors.New("endsAt: must be after startsAt"))
	} else if !s.EndsAt.After(now) {
		errs = append(errs, errors.New("endsAt: is in the past"))
	}
	if s.CreatedBy == "" {
		errs = append(errs, errors.New("createdBy: required"))
	}
	if s.Comment == "" {
		errs = append(errs, errors.New("comment: required"))
	}
	return errors.Join(errs...)
}

func (s *Silence) compile() error {
	s.matchers = s.matchers[:0]
	for i, m := range s.Matchers {
		c, err := m.compile()
		if err != nil {
			return fmt.Errorf("matchers[%d]: %w", i, err)
		}
		s.matchers = append(s.matchers, c)
	}
	return nil
}

func sameMatchers(a, b []Matcher) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		eqA, eqB := a[i].IsEqual == nil || *a[i].IsEqual, b[i].IsEqual == nil || *b[i].IsEqual
		if a[i].Name != b[i].Name || a[i].Value != b[i].Value || a[i].IsRegex != b[i].IsRegex || eqA != eqB {
			return false
		}
	}
	return true
}

func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}
