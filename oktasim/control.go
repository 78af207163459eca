package oktasim

import (
	"encoding/json"
	"io"
	"net/http"
	"time"
)

// Info describes the running simulator (GET /__sim/info).
type Info struct {
	Seed       int64          `json:"seed"`
	Now        time.Time      `json:"now"`
	WireNow    time.Time      `json:"wireNow"`
	TimeScale  float64        `json:"timeScale"`
	RateLimits string         `json:"rateLimits"`
	Users      int            `json:"users"`
	Groups     int            `json:"groups"`
	Apps       int            `json:"apps"`
	Devices    int            `json:"devices"`
	LogEvents  int            `json:"logEvents"`
	ChurnSteps int            `json:"churnSteps"`
	Faults     string         `json:"faults"`
	Buckets    map[string]int `json:"buckets"`
}

// Info returns current sizes and clocks.
func (s *Sim) Info() Info {
	s.mu.RLock()
	defer s.mu.RUnlock()
	o := s.o
	b := Buckets()
	for k, v := range s.cfg.BucketLimits {
		b[k] = v
	}
	return Info{Seed: s.cfg.Seed, Now: s.Now(), WireNow: s.WireNow(), TimeScale: s.cfg.TimeScale,
		RateLimits: s.rateLimits().String(), Users: len(o.users), Groups: len(o.groups), Apps: len(o.apps),
		Devices: len(o.devices), LogEvents: o.logs.total(), ChurnSteps: o.churnSeq, Faults: s.cfg.Faults.String(), Buckets: b}
}

// serveControl implements /__sim/*: no auth, no faults, no rate limits.
func (s *Sim) serveControl(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Date", s.WireNow().Format(http.TimeFormat))
	switch r.URL.Path {
	case "/__sim/stats":
		if r.Method != http.MethodGet {
			controlError(w, http.StatusMethodNotAllowed, "use GET")
			return
		}
		writeJSON(w, s.Stats())
	case "/__sim/stats/reset":
		if r.Method != http.MethodPost {
			controlError(w, http.StatusMethodNotAllowed, "use POST")
			return
		}
		s.ResetStats()
		w.WriteHeader(http.StatusNoContent)
	case "/__sim/info":
		writeJSON(w, s.Info())
	case "/__sim/advance":
		if r.Method != http.MethodPost {
			controlError(w, http.StatusMethodNotAllowed, "use POST")
			return
		}
		d, err := time.ParseDuration(r.URL.Query().Get("d"))
		if err != nil || d < 0 {
			controlError(w, http.StatusBadRequest, "d must be a non-negative duration such as 1h")
			return
		}
		s.Advance(d)
		writeJSON(w, map[string]time.Time{"now": s.Now()})
	case "/__sim/churn":
		if r.Method != http.MethodPost {
			controlError(w, http.StatusMethodNotAllowed, "use POST")
			return
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			controlError(w, http.StatusBadRequest, "read body: "+err.Error())
			return
		}
		spec := DefaultChurnSpec()
		if len(body) > 0 {
			spec = ChurnSpec{}
			if err := json.Unmarshal(body, &spec); err != nil {
				controlError(w, http.StatusBadRequest, "bad churn spec: "+err.Error())
				return
			}
		}
		writeJSON(w, s.Churn(spec))
	default:
		controlError(w, http.StatusNotFound, "unknown control endpoint; try /__sim/stats, /__sim/info, /__sim/churn, /__sim/advance")
	}
}

func writeJSON(w http.ResponseWriter, v any) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		controlError(w, http.StatusInternalServerError, err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(append(b, '\n'))
}

func controlError(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	b, _ := json.Marshal(map[string]string{"error": msg})
	_, _ = w.Write(append(b, '\n'))
}
