package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"oktasync/oktasim"
)

func Try(ctx context.Context, args []string) error {
	users, _ := strconv.Atoi(args[0])
	o := Org{Seed: 1, Users: users, Groups: users / 25, Apps: max(2, users/500), Devices: users / 2, Logs: users * 10}
	var excl []string
	if len(args) > 1 {
		excl = args[1:]
	}
	s, err := startSim(o.simConfig(oktasim.RateLimitsOff, 1e4))
	if err != nil {
		return err
	}
	defer s.Close()
	dir, _ := os.MkdirTemp("", "bench")
	defer os.RemoveAll(dir)
	r, err := runSync(ctx, s, syncSpec{DB: filepath.Join(dir, "a.duckdb"), TimeScale: 1e4, Exclude: excl})
	if err != nil {
		return err
	}
	fmt.Println(o, "wall", r.Wall, "rows", r.Rows(), "req", r.Requests(), "rows/s", float64(r.Rows())/r.Wall.Seconds())
	for _, t := range r.Summary.Tables {
		var n int64
		for _, v := range t.Rows {
			n += v
		}
		fmt.Printf("%-32s req=%6d rows=%8d dur=%v\n", t.Table, t.Requests, n, t.Duration)
	}
	return nil
}
