package oktasim

import (
	"sort"
	"strconv"
	"strings"
)

const (
	logScanCap    = 200000 // events examined per polling request before returning a partial page
	logRetention  = 90 * day
	logMaxSinceAg = systemLogMaxSinceDays * day
)

type logCand struct {
	pub int64
	j   int
}

func parseLogCursor(a string) (int64, int, bool) {
	msStr, nStr, ok := strings.Cut(a, "_")
	if !ok {
		return 0, 0, false
	}
	ms, err1 := strconv.ParseInt(msStr, 10, 64)
	n, err2 := strconv.Atoi(nStr)
	if err1 != nil || err2 != nil || n < 0 {
		return 0, 0, false
	}
	return ms, n, true
}

// hLogs: GET /api/v1/logs.
//
// Polling (no until, ASCENDING): events in persistence order from since (or the
// after cursor, which encodes a position in the log), next link always present,
// so events appended later are returned by the stored next link.
// Bounded (until given) and DESCENDING: ordered by published, finite.
func hLogs(s *Sim, c *reqCtx) *apiError {
	o := c.rd.o
	ls := &o.logs
	now := s.nowMs() // the org clock (a real one runs between changes)
	limit, e := c.limitParam(100, 1, 1000)
	if e != nil {
		return e
	}
	desc := false
	switch so := c.q.Get("sortOrder"); so {
	case "", "ASCENDING":
	case "DESCENDING":
		desc = true
	default:
		return errLogParam("sortOrder must be ASCENDING or DESCENDING.")
	}
	var since, until int64
	hasSince, hasUntil := c.q.Get("since") != "", c.q.Get("until") != ""
	if hasUntil {
		t, ok := parseFilterTime(c.q.Get("until"))
		if !ok {
			return errLogParam("The until parameter is not a valid date.")
		}
		until = t
	} else {
		until = now
	}
	if hasSince {
		t, ok := parseFilterTime(c.q.Get("since"))
		if !ok {
			return errLogParam("The since parameter is not a valid date.")
		}
		since = t
		if since < now-logMaxSinceAg {
			return errLogParam("The since parameter is over 180 days prior to the current day.")
		}
	} else {
		since = until - systemLogDefaultWindowDays*day
	}
	// Without until, since is checked against the present the client sees:
	// the Date header's clock, which runs ahead of a fixed org clock under a
	// time scale (a since between the two finds no event yet).
	if hasUntil && until < since || !hasUntil && max(now, s.wireNowMs()) < since {
		return errLogParam("The until parameter must not be before the since parameter.")
	}
	since = max(since, now-logRetention)

	var ex *expr
	if f := c.q.Get("filter"); f != "" {
		var err error
		ex, err = parseFilter(f)
		if err == nil {
			err = logFilterRules.check(ex)
		}
		if err != nil {
			return &apiError{status: 400, code: "E0000053", summary: "Invalid SCIM filter.", causes: []string{err.Error()}}
		}
	}
	var keywords []string
	if qv := strings.TrimSpace(c.q.Get("q")); qv != "" {
		keywords = strings.Fields(strings.ToLower(qv))
		if len(keywords) > 10 {
			return errLogParam("q supports at most 10 keywords.")
		}
	}
	match := func(j int, lr *logRec) bool {
		if ex != nil && !ex.eval(func(name string) (string, int64, bool, bool) { return c.rd.logAttr(j, lr, name) }) {
			return false
		}
		if len(keywords) > 0 {
			ev := &evCatalog[lr.et]
			hay := strings.ToLower(ev.typ + " " + ev.msg)
			if lr.actorKind == akUser {
				hay += " " + strings.ToLower(o.userDisplayName(int(lr.actor))+" "+o.userLogin(int(lr.actor)))
			}
			for _, k := range keywords {
				if !strings.Contains(hay, k) {
					return false
				}
			}
		}
		return true
	}
	filtered := ex != nil || len(keywords) > 0
	lim := strconv.Itoa(limit)
	c.links = append(c.links, "<"+c.pageURL("limit", lim)+`>; rel="self"`)
	w := c.rd.w

	if !desc && !hasUntil { // polling
		total := ls.total()
		pos := 0
		if a := c.q.Get("after"); a != "" {
			ms, n, ok := parseLogCursor(a)
			if !ok || n > total || (n > 0 && ls.persistAt(n-1) != ms) {
				return errLogParam("The after parameter is invalid.")
			}
			pos = n
		} else {
			pos = ls.firstPersistAtOrAfter(since)
		}
		w.arr()
		n, j := 0, pos
		for ; j < total && n < limit && j-pos < logScanCap; j++ {
			lr := ls.rec(j)
			if filtered && !match(j, &lr) {
				continue
			}
			c.rd.writeLog(j, &lr)
			n++
		}
		w.endArr()
		cursorMs := since
		if j > 0 {
			cursorMs = ls.persistAt(j - 1)
		}
		cursor := strconv.FormatInt(cursorMs, 10) + "_" + strconv.Itoa(j)
		c.links = append(c.links, "<"+c.pageURL("after", cursor, "limit", lim, "since", "")+`>; rel="next"`)
		return nil
	}

	// Bounded or descending: ordered by (published, index).
	var curPub int64
	curJ := -1
	if a := c.q.Get("after"); a != "" {
		ms, n, ok := parseLogCursor(a)
		if !ok || n >= ls.total() || ls.publishedAt(n) != ms {
			return errLogParam("The after parameter is invalid.")
		}
		curPub, curJ = ms, n
	}
	keyLess := func(p1 int64, j1 int, p2 int64, j2 int) bool { return p1 < p2 || (p1 == p2 && j1 < j2) }
	var cands []logCand
	keep := limit + 1
	sortCands := func() {
		sort.Slice(cands, func(a, b int) bool {
			if desc {
				return keyLess(cands[b].pub, cands[b].j, cands[a].pub, cands[a].j)
			}
			return keyLess(cands[a].pub, cands[a].j, cands[b].pub, cands[b].j)
		})
		if len(cands) > keep {
			cands = cands[:keep]
		}
	}
	haveCutoff := false
	var cutoff int64
	consider := func(j int) {
		pub := ls.publishedAt(j)
		if pub < since || pub >= until {
			return
		}
		if curJ >= 0 {
			if !desc && !keyLess(curPub, curJ, pub, j) || desc && !keyLess(pub, j, curPub, curJ) {
				return
			}
		}
		if filtered {
			lr := ls.rec(j)
			if !match(j, &lr) {
				return
			}
		}
		cands = append(cands, logCand{pub, j})
		if len(cands) >= 2*keep {
			sortCands()
			haveCutoff, cutoff = true, cands[keep-1].pub
		}
	}
	total := ls.total()
	if !desc {
		lo := since
		if curJ >= 0 {
			lo = max(lo, curPub)
		}
		for j := ls.firstPersistAtOrAfter(lo); j < total; j++ {
			p := ls.persistAt(j)
			if p >= until+ls.maxDelay || haveCutoff && p > cutoff+ls.maxDelay {
				break
			}
			consider(j)
		}
	} else {
		hi := until
		if curJ >= 0 {
			hi = min(hi, curPub+1)
		}
		for j := ls.firstPersistAtOrAfter(hi+ls.maxDelay) - 1; j >= 0; j-- {
			p := ls.persistAt(j)
			if p < since || haveCutoff && p < cutoff {
				break
			}
			consider(j)
		}
	}
	sortCands()
	more := len(cands) > limit
	if more {
		cands = cands[:limit]
	}
	w.arr()
	for _, cd := range cands {
		lr := ls.rec(cd.j)
		c.rd.writeLog(cd.j, &lr)
	}
	w.endArr()
	if more {
		last := cands[len(cands)-1]
		cursor := strconv.FormatInt(last.pub, 10) + "_" + strconv.Itoa(last.j)
		c.links = append(c.links, "<"+c.pageURL("after", cursor, "limit", lim)+`>; rel="next"`)
	}
	return nil
}
