package oktasim

import (
	"bufio"
	"io"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// peakRSSMB reads the process's peak resident set size (Linux VmHWM), or -1.
func peakRSSMB() float64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return -1
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 64)
			if err == nil {
				return kb / 1024
			}
		}
	}
	return -1
}

func heapMB() float64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return float64(ms.HeapAlloc) / (1 << 20)
}

var bigOrg = Config{Seed: 1, Users: 100_000, Logs: 1_000_000, Now: DefaultNow}

// BenchmarkGenerate100kUsers generates an org of 100k users (4k groups, 50k
// devices, 1M System Log events) and reports the heap it keeps and the peak RSS.
func BenchmarkGenerate100kUsers(b *testing.B) {
	before := heapMB()
	var s *Sim
	for b.Loop() {
		var err error
		if s, err = New(bigOrg); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(heapMB()-before, "retained-heap-MB")
	b.ReportMetric(peakRSSMB(), "peak-RSS-MB")
	runtime.KeepAlive(s)
}

// BenchmarkServeAllUsers100k pages through all 100k users over loopback HTTP
// (limit=200, following Link headers) per iteration.
func BenchmarkServeAllUsers100k(b *testing.B) {
	s, base := startSim(b, bigOrg)
	client := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	var bytes int64
	pages := 0
	for b.Loop() {
		bytes, pages = 0, 0
		next := base + "/api/v1/users?limit=200"
		for next != "" {
			req, _ := http.NewRequest(http.MethodGet, next, nil)
			req.Header.Set("Authorization", "SSWS demo-token")
			resp, err := client.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			n, err := io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if err != nil || resp.StatusCode != 200 {
				b.Fatalf("page %d: status %d err %v", pages, resp.StatusCode, err)
			}
			bytes += n
			pages++
			next = links(resp)["next"]
		}
	}
	b.SetBytes(bytes)
	b.ReportMetric(float64(pages), "pages/op")
	b.ReportMetric(heapMB(), "heap-MB")
	b.ReportMetric(peakRSSMB(), "peak-RSS-MB")
	runtime.KeepAlive(s)
}

// BenchmarkServeLogPage renders one polling page of 1000 events from a 1M-event log.
func BenchmarkServeLogPage(b *testing.B) {
	s, base := startSim(b, bigOrg)
	url := base + "/api/v1/logs?limit=1000&since=" + fmtTS(s.o.now-8*day)
	var n int64
	for b.Loop() {
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		req.Header.Set("Authorization", "SSWS demo-token")
		resp, err := testClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		n, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	b.SetBytes(n)
}

// BenchmarkRenderDirectory renders, without HTTP, what a sync reads of the
// small directory tables of a 10k-user org: every app, every device with its
// users embedded (expand=user) and every admin's role assignments.
func BenchmarkRenderDirectory(b *testing.B) {
	s, err := New(Config{Seed: 1, Users: 10_000, Apps: 50, Logs: -1, Now: DefaultNow})
	if err != nil {
		b.Fatal(err)
	}
	o := s.o
	rd := renderer{o: o, lb: "https://example.okta.com", w: &jw{}}
	var n int64
	for b.Loop() {
		n = 0
		rd.w.reset()
		rd.w.arr()
		for a := range o.apps {
			rd.writeApp(a)
		}
		rd.w.endArr()
		n += int64(len(rd.w.b))
		rd.w.reset()
		rd.w.arr()
		for d := range o.devices {
			rd.writeDevice(d, devExpandUser)
		}
		rd.w.endArr()
		n += int64(len(rd.w.b))
		rd.w.reset()
		rd.w.arr()
		for _, a := range o.adminUsers {
			for _, ra := range a.roles {
				rd.writeRole(ra, int(a.idx), -1)
			}
		}
		for _, a := range o.adminGroups {
			for _, ra := range a.roles {
				rd.writeRole(ra, -1, int(a.idx))
			}
		}
		rd.w.endArr()
		n += int64(len(rd.w.b))
	}
	b.SetBytes(n)
	b.ReportMetric(float64(len(o.apps)), "apps")
	b.ReportMetric(float64(len(o.devices)), "devices")
}
