package connector

import (
	"os"
	"runtime/debug"
	"testing"
)

func TestUseDefaultGC(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))

	t.Setenv("GOGC", "")
	os.Unsetenv("GOGC")
	debug.SetGCPercent(100)
	UseDefaultGC()
	if got := debug.SetGCPercent(100); got != DefaultGCPercent {
		t.Errorf("GOGC unset: collector target %d, want %d", got, DefaultGCPercent)
	}

	t.Setenv("GOGC", "100")
	UseDefaultGC()
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("GOGC=100 set: collector target %d, want it left at 100", got)
	}
}
