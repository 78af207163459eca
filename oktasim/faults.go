package oktasim

// decideFault returns the fault for API request n ("" for none). It is a pure
// function of the seed and n, so a given request sequence meets the same faults
// on every run.
func (s *Sim) decideFault(n uint64) string {
	f := s.cfg.Faults
	if !f.Enabled() {
		return ""
	}
	u := float64(hash3(s.o.seed, 0x666c74, n)>>11) / (1 << 53)
	for _, k := range []struct {
		name string
		p    float64
	}{
		{"500", f.Rate500}, {"502", f.Rate502}, {"503", f.Rate503}, {"504", f.Rate504},
		{"reset", f.Reset}, {"truncate", f.Truncate}, {"slow", f.Slow}, {"429storm", f.Storm429},
	} {
		if u < k.p {
			return k.name
		}
		u -= k.p
	}
	return ""
}

// inStorm consumes one response of a running 429 storm.
func (s *Sim) inStorm() bool {
	s.stormMu.Lock()
	defer s.stormMu.Unlock()
	if s.stormLeft > 0 {
		s.stormLeft--
		return true
	}
	return false
}

func (s *Sim) startStorm() {
	s.stormMu.Lock()
	s.stormLeft = s.cfg.Faults.StormLength - 1
	s.stormMu.Unlock()
}
