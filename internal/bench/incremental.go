package bench

import (
	"context"
	"fmt"
	"time"

	"oktasync/oktasim"
)

// IncRun compares the requests of an incremental sync after 1% churn with
// those of the full sync before it.
type IncRun struct {
	Churn oktasim.ChurnSpec
	// Full and Incremental are the API requests the simulator served.
	Full, Incremental int64
	// FullByTable and IncByTable are the engine's request counts per table.
	FullByTable, IncByTable map[string]int
	Wall                    time.Duration
	Rows                    int64
}

// Fraction is Incremental / Full.
func (r *IncRun) Fraction() float64 { return float64(r.Incremental) / float64(r.Full) }

// incremental churns the org of a finished full sync and syncs again into
// the same database.
func incremental(ctx context.Context, s *simServer, org Org, full *SyncRun, spec syncSpec) (*IncRun, error) {
	r := &IncRun{Churn: ChurnFor(org), Full: full.Server.Requests, FullByTable: map[string]int{}, IncByTable: map[string]int{}}
	s.Churn(r.Churn)
	inc, err := runSync(ctx, s, spec)
	if err != nil {
		return nil, fmt.Errorf("incremental: %w", err)
	}
	r.Incremental, r.Wall, r.Rows = inc.Server.Requests, inc.Wall, inc.Rows()
	for _, t := range full.Summary.Tables {
		r.FullByTable[t.Table] = t.Requests
	}
	for _, t := range inc.Summary.Tables {
		r.IncByTable[t.Table] = t.Requests
	}
	return r, nil
}
