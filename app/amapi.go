package app

import (
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/burnwatch/burnwatch/alerting"
	"github.com/burnwatch/burnwatch/alerting/silence"
)

// The Alertmanager-compatible part of the API (/api/v2): silences and
// alerts, so the real amtool lists Burnwatch's alerts and adds, queries and
// expires its silences.

// gettableAlert is Alertmanager's gettableAlert.
type gettableAlert struct {
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt"`
	UpdatedAt    time.Time         `json:"updatedAt"`
	GeneratorURL string            `json:"generatorURL,omitempty"`
	Fingerprint  string            `json:"fingerprint"`
	Receivers    []receiverRef     `json:"receivers"`
	Status       alertStatus       `json:"status"`
}

type receiverRef struct {
	Name string `json:"name"`
}

type alertStatus struct {
	State       string   `json:"state"` // active | suppressed
	SilencedBy  []string `json:"silencedBy"`
	InhibitedBy []string `json:"inhibitedBy"`
	MutedBy     []string `json:"mutedBy"`
}

type gettableSilence struct {
	silence.Silence
	Status struct {
		State string `json:"state"`
	} `json:"status"`
}

// amRoutes adds the /api/v2 routes to mux.
func (a *App) amRoutes(mux *http.ServeMux, opts HandlerOptions) {
	mux.HandleFunc("GET /api/v2/alerts", a.getAlerts)
	mux.HandleFunc("GET /api/v2/silences", a.getSilences)
	mux.HandleFunc("GET /api/v2/silence/{id}", a.getSilence)
	mux.HandleFunc("POST /api/v2/silences", opts.write(a.postSilence))
	mux.HandleFunc("DELETE /api/v2/silence/{id}", opts.write(a.deleteSilence))
	mux.HandleFunc("GET /api/v2/status", a.getStatus)
	mux.HandleFunc("GET /api/v2/receivers", a.getReceivers)
}

// write guards a handler that changes state: with a bearer token
// configured, the request must carry it; without one, only requests to a
// loopback listener are served.
func (o HandlerOptions) write(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if o.BearerToken != "" {
			got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
			if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(o.BearerToken)) != 1 {
				w.Header().Set("WWW-Authenticate", `Bearer realm="burnwatch"`)
				apiError(w, http.StatusUnauthorized, "this write needs the API bearer token (Authorization: Bearer ...)")
				return
			}
		} else if !loopback(r) {
			apiError(w, http.StatusForbidden, "writes are refused on a non-loopback listener without a bearer token: set the burnwatch extension's api.bearer_token")
			return
		}
		h(w, r)
	}
}

// loopback reports whether r arrived on a loopback address.
func loopback(r *http.Request) bool {
	addr, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
	if !ok {
		return false
	}
	host, _, err := net.SplitHostPort(addr.String())
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (a *App) getAlerts(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	filter, err := alerting.ParseMatchers(q["filter"])
	if err != nil {
		apiError(w, http.StatusBadRequest, "filter"+err.Error())
		return
	}
	flag := func(name string) bool {
		v, err := strconv.ParseBool(q.Get(name))
		return err != nil || v // absent or unreadable: true, as Alertmanager defaults
	}
	showActive, showSilenced, showInhibited := flag("active"), flag("silenced"), flag("inhibited")
	now := a.clock.Now()
	firing := a.alerts.manager.Firing()
	out := []gettableAlert{}
	for i := range firing {
		al := &firing[i]
		if !filter.Matches(al.Labels) {
			continue
		}
		g := gettableAlert{Labels: al.Labels, Annotations: al.Annotations(), StartsAt: al.StartsAt, EndsAt: al.EndsAt,
			UpdatedAt: al.LastEvaluated, GeneratorURL: al.Dashboard, Fingerprint: al.Fingerprint, Receivers: []receiverRef{},
			Status: alertStatus{State: "active", SilencedBy: a.alerts.silences.SilencedBy(al.Labels, now), InhibitedBy: []string{}, MutedBy: []string{}}}
		if g.EndsAt.IsZero() {
			g.EndsAt = now.Add(a.cfg.EvaluationInterval * 4) // as Prometheus sends it
		}
		if a.alerts.router != nil {
			for _, name := range a.alerts.router.Receivers(al.Labels) {
				g.Receivers = append(g.Receivers, receiverRef{Name: name})
			}
			if by := a.alerts.router.InhibitedBy(*al, firing); by != nil {
				g.Status.InhibitedBy = by
			}
		}
		if g.Status.SilencedBy == nil {
			g.Status.SilencedBy = []string{}
		}
		silenced, inhibited := len(g.Status.SilencedBy) > 0, len(g.Status.InhibitedBy) > 0
		if silenced || inhibited {
			g.Status.State = "suppressed"
		}
		if (!silenced && !inhibited && !showActive) || (silenced && !showSilenced) || (inhibited && !showInhibited) {
			continue
		}
		out = append(out, g)
	}
	writeJSON(w, out)
}

func (a *App) getSilences(w http.ResponseWriter, r *http.Request) {
	filter, err := alerting.ParseMatchers(r.URL.Query()["filter"])
	if err != nil {
		apiError(w, http.StatusBadRequest, "filter"+err.Error())
		return
	}
	now := a.clock.Now()
	out := []gettableSilence{}
	for _, s := range a.alerts.silences.List(now) {
		labels := map[string]string{}
		for _, m := range s.Matchers {
			labels[m.Name] = m.Value
		}
		if !filter.Matches(labels) {
			continue
		}
		out = append(out, gettable(s, now))
	}
	writeJSON(w, out)
}

func gettable(s silence.Silence, now time.Time) gettableSilence {
	g := gettableSilence{Silence: s}
	g.Status.State = s.State(now)
	return g
}

func (a *App) getSilence(w http.ResponseWriter, r *http.Request) {
	s, ok := a.alerts.silences.Get(r.PathValue("id"))
	if !ok {
		apiError(w, http.StatusNotFound, "silence not found")
		return
	}
	writeJSON(w, gettable(s, a.clock.Now()))
}

func (a *App) postSilence(w http.ResponseWriter, r *http.Request) {
	var s silence.Silence
	dec := json.NewDecoder(io.LimitReader(r.Body, 1<<20))
	if err := dec.Decode(&s); err != nil {
		apiError(w, http.StatusBadRequest, "body is not a silence: "+err.Error())
		return
	}
	id, err := a.alerts.silences.Set(s, a.clock.Now())
	if err != nil {
		status := http.StatusBadRequest
		if strings.Contains(err.Error(), "not found") {
			status = http.StatusNotFound
		}
		apiError(w, status, err.Error())
		return
	}
	writeJSON(w, map[string]string{"silenceID": id})
}

func (a *App) deleteSilence(w http.ResponseWriter, r *http.Request) {
	if err := a.alerts.silences.Expire(r.PathValue("id"), a.clock.Now()); err != nil {
		status := http.StatusBadRequest
		if strings.Contains(err.Error(), "not found") {
			status = http.StatusNotFound
		}
		apiError(w, status, err.Error())
		return
	}
	w.WriteHeader(http.StatusOK)
}

// getStatus answers what amtool asks of an Alertmanager's status.
func (a *App) getStatus(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, map[string]any{
		"cluster":     map[string]any{"status": "disabled", "peers": []any{}},
		"versionInfo": map[string]string{"version": "burnwatch", "revision": "", "branch": "", "buildUser": "", "buildDate": "", "goVersion": runtime.Version()},
		"config":      map[string]string{"original": "# Burnwatch: routing is configured under extensions.burnwatch.alerting"},
		"uptime":      a.started.Format(time.RFC3339),
	})
}

func (a *App) getReceivers(w http.ResponseWriter, _ *http.Request) {
	out := []receiverRef{}
	for _, r := range a.cfg.Alerting.receivers() {
		out = append(out, receiverRef{Name: r.Name})
	}
	writeJSON(w, out)
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	if err := json.NewEncoder(w).Encode(v); err != nil {
		http.Error(w, fmt.Sprintf("encode: %v", err), http.StatusInternalServerError)
	}
}

func apiError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(msg) // Alertmanager answers errors as a JSON string
}
