package bench

import (
	"bufio"
	"os"
	goruntime "runtime"
	"strconv"
	"strings"
)

// Machine describes where a run ran.
type Machine struct {
	CPUs     int    // logical CPUs (nproc)
	CPUModel string // from /proc/cpuinfo
	MemGiB   float64
	Go       string
}

func (m Machine) String() string {
	s := strconv.Itoa(m.CPUs) + " CPUs"
	if m.CPUModel != "" {
		s += " (" + m.CPUModel + ")"
	}
	if m.MemGiB > 0 {
		s += ", " + strconv.FormatFloat(m.MemGiB, 'f', 1, 64) + " GiB RAM"
	}
	return s + ", " + m.Go
}

func machine() Machine {
	m := Machine{CPUs: goruntime.NumCPU(), Go: goruntime.Version() + " " + goruntime.GOOS + "/" + goruntime.GOARCH}
	m.CPUModel = procField("/proc/cpuinfo", "model name")
	if kb := procField("/proc/meminfo", "MemTotal"); kb != "" {
		n, _ := strconv.ParseFloat(strings.TrimSuffix(kb, " kB"), 64)
		m.MemGiB = n / (1 << 20)
	}
	return m
}

// procField returns the value of the first "name: value" line of a /proc file.
func procField(path, name string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == name {
			return strings.TrimSpace(v)
		}
	}
	return ""
}
