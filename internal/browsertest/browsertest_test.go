package browsertest_test

import (
	"bytes"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"oktasync/internal/browsertest"
)

var update = flag.Bool("update", false, "rewrite golden files")

// fakePage draws something like a rendered page: a dark header, and cards of
// lines of "words", so that the comparer sees text-like detail.
func fakePage(w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	fill := func(r image.Rectangle, c color.RGBA) { draw.Draw(img, r, image.NewUniform(c), image.Point{}, draw.Src) }
	fill(img.Bounds(), color.RGBA{255, 255, 255, 255})
	fill(image.Rect(0, 0, w, 64), color.RGBA{31, 41, 55, 255})
	rng := rand.New(rand.NewPCG(1, 2))
	words := func(x0, x1, y0, y1 int, c color.RGBA) {
		for y := y0; y+12 <= y1; y += 22 {
			for x := x0; ; {
				n := 12 + rng.IntN(70)
				if x+n > x1 {
					break
				}
				fill(image.Rect(x, y, x+n, y+12), c)
				x += n + 8
			}
		}
	}
	words(32, 400, 26, 64, color.RGBA{255, 255, 255, 255})
	for y := 96; y+160 < h; y += 200 {
		fill(image.Rect(32, y, w-32, y+160), color.RGBA{209, 213, 219, 255})
		fill(image.Rect(33, y+1, w-33, y+159), color.RGBA{249, 250, 251, 255})
		words(56, w-56, y+24, y+140, color.RGBA{40, 40, 48, 255})
	}
	return img
}

func encode(t testing.TB, img image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// outcome runs CompareScreenshot on a recorder, and returns whether it failed
// and what it said.
func outcome(t *testing.T, got []byte, golden string) (failed bool, msg string) {
	t.Helper()
	r := &recorder{TB: t}
	done := make(chan struct{})
	go func() { // Fatal ends this goroutine only
		defer close(done)
		browsertest.CompareScreenshot(r, got, golden, false)
	}()
	<-done
	return r.failed, strings.Join(r.msgs, "\n")
}

// recorder is a testing.TB that records failures instead of failing.
type recorder struct {
	testing.TB
	failed bool
	msgs   []string
}

func (r *recorder) Errorf(format string, args ...any) {
	r.failed = true
	r.msgs = append(r.msgs, fmt.Sprintf(format, args...))
}
func (r *recorder) Fatalf(format string, args ...any) { r.Errorf(format, args...); runtime.Goexit() }
func (r *recorder) Fatal(args ...any)                 { r.Fatalf("%s", fmt.Sprint(args...)) }
func (r *recorder) Logf(format string, args ...any) {
	r.msgs = append(r.msgs, fmt.Sprintf(format, args...))
}

func TestCompareScreenshot(t *testing.T) {
	artifacts := t.TempDir()
	t.Setenv(browsertest.EnvArtifacts, artifacts)
	const w, h = 1280, 900
	base := fakePage(w, h)
	golden := filepath.Join(t.TempDir(), "new", "dir", "page.png")
	browsertest.CompareScreenshot(t, encode(t, base), golden, true)
	if _, err := os.Stat(golden); err != nil {
		t.Fatalf("update wrote no golden: %v", err)
	}

	// variant draws base on a white canvas of height ht, moved by dx, dy.
	variant := func(ht, dx, dy int) *image.RGBA {
		img := image.NewRGBA(image.Rect(0, 0, w, ht))
		draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)
		draw.Draw(img, base.Bounds().Add(image.Pt(dx, dy)), base, image.Point{}, draw.Src)
		return img
	}
	accept := map[string]func() *image.RGBA{
		"itself": func() *image.RGBA { return variant(h, 0, 0) },
		// Antialiasing and hinting: many pixels a few levels off.
		"noise": func() *image.RGBA {
			img := variant(h, 0, 0)
			rng := rand.New(rand.NewPCG(3, 4))
			for i := range img.Pix {
				if i%4 != 3 && rng.IntN(2) == 0 {
					img.Pix[i] = uint8(min(255, max(0, int(img.Pix[i])+rng.IntN(41)-20)))
				}
			}
			return img
		},
		// Every edge one pixel off, as another hinting could put text.
		"shifted 1px": func() *image.RGBA { return variant(h, 1, 1) },
		"4px taller":  func() *image.RGBA { return variant(h+4, 0, 0) },
	}
	for name, img := range accept {
		t.Run("accepts "+name, func(t *testing.T) {
			if failed, msg := outcome(t, encode(t, img()), golden); failed {
				t.Errorf("rejected: %s", msg)
			}
		})
	}

	reject := map[string]struct {
		img  func() *image.RGBA
		want string // in the message
	}{
		"a section blanked": {func() *image.RGBA {
			img := variant(h, 0, 0)
			draw.Draw(img, image.Rect(32, 296, w-32, 456), image.White, image.Point{}, draw.Src)
			return img
		}, "differs from golden"},
		"shifted down": {func() *image.RGBA { return variant(h, 0, 48) }, "differs from golden"},
		"styles lost": {func() *image.RGBA {
			img := variant(h, 0, 0)
			draw.Draw(img, image.Rect(0, 0, w, 64), image.White, image.Point{}, draw.Src)
			return img
		}, "differs from golden"},
		"taller": {func() *image.RGBA { return variant(h+200, 0, 0) }, "is 1280x1100, golden"},
		"blank":  {func() *image.RGBA { return variant(h, w, 0) }, "blank"},
	}
	for name, c := range reject {
		t.Run("rejects "+name, func(t *testing.T) {
			failed, msg := outcome(t, encode(t, c.img()), golden)
			if !failed {
				t.Fatalf("accepted (%s)", msg)
			}
			if !strings.Contains(msg, c.want) {
				t.Errorf("message %q lacks %q", msg, c.want)
			}
			t.Log(msg)
			kept := []string{"got", "want"}
			if c.want == "differs from golden" {
				kept = append(kept, "diff")
			}
			for _, k := range kept {
				path := filepath.Join(artifacts, strings.ReplaceAll(t.Name(), "/", "_")+"-page."+k+".png")
				if !strings.Contains(msg, path) {
					t.Errorf("the message names no %s", path)
				}
				if _, err := os.Stat(path); err != nil {
					t.Error(err)
				}
			}
		})
	}

	t.Run("missing golden", func(t *testing.T) {
		failed, msg := outcome(t, encode(t, base), filepath.Join(t.TempDir(), "none.png"))
		if !failed || !strings.Contains(msg, "-update") {
			t.Errorf("failed %v: %s", failed, msg)
		}
	})
}

func TestBlank(t *testing.T) {
	white := image.NewRGBA(image.Rect(0, 0, 200, 100))
	draw.Draw(white, white.Bounds(), image.White, image.Point{}, draw.Src)
	if !browsertest.Blank(encode(t, white)) {
		t.Error("a white image is not blank")
	}
	white.Set(10, 10, color.Black) // one speck is still blank
	if !browsertest.Blank(encode(t, white)) {
		t.Error("a white image with a speck is not blank")
	}
	if browsertest.Blank(encode(t, fakePage(400, 300))) {
		t.Error("a page is blank")
	}
	if !browsertest.Blank([]byte("not a png")) {
		t.Error("garbage is not blank")
	}
}

const selftestPage = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>browsertest self-test</title>
<style>
body { margin: 0; font: 16px/1.5 sans-serif; color: #1f2937; background: #fff; }
header { background: #1f2937; color: #fff; padding: 16px 32px; font-size: 24px; font-weight: bold; }
main { padding: 32px; }
.card { max-width: 560px; padding: 8px 24px 24px; border: 1px solid #d1d5db; border-radius: 8px; background: #f3f4f6; }
button { font: inherit; padding: 8px 20px; border: 0; border-radius: 6px; background: #2563eb; color: #fff; }
</style>
</head>
<body>
<header>oktasync browser self-test</header>
<main>
<div class="card">
<h1>Status</h1>
<p>Last sync: <span id="status">%s</span></p>
<form method="post" action="/sync"><button type="submit">Sync now</button></form>
</div>
</main>
</body>
</html>
`

// TestBrowser drives a small server-rendered page: read, click, see it change,
// compare a screenshot, and check the console.
func TestBrowser(t *testing.T) {
	var mu sync.Mutex
	syncs := 0
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		status := "never"
		if syncs > 0 {
			status = fmt.Sprintf("%d time(s), just now", syncs)
		}
		mu.Unlock()
		fmt.Fprintf(w, selftestPage, status)
	})
	mux.HandleFunc("POST /sync", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		syncs++
		mu.Unlock()
		http.Redirect(w, r, "/", http.StatusSeeOther)
	})
	// Broken versions of the page after the click, which the golden must catch.
	broken := map[string]func(string) string{
		"unstyled": func(page string) string {
			i, j := strings.Index(page, "<style>"), strings.Index(page, "</style>")
			return page[:i] + page[j+len("</style>"):]
		},
		"without its button": func(page string) string {
			return strings.Replace(page, `<button type="submit">Sync now</button>`, "", 1)
		},
	}
	mux.HandleFunc("GET /broken", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, broken[r.FormValue("how")](fmt.Sprintf(selftestPage, "1 time(s), just now")))
	})
	mux.HandleFunc("GET /tall", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<!doctype html><body style="margin:0"><div style="height:2500px;background:linear-gradient(#fff,#345)"></div>`)
	})
	mux.HandleFunc("GET /console", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<!doctype html><p>errors</p><script>console.error("x")</script><script>throw new Error("boom")</script>`)
	})
	srv := httptest.NewServer(mux) // listens on 127.0.0.1
	t.Cleanup(srv.Close)
	if !strings.HasPrefix(srv.URL, "http://127.0.0.1:") {
		t.Fatalf("test server at %s, not on 127.0.0.1", srv.URL)
	}

	start := time.Now()
	ctx := browsertest.New(t)
	t.Logf("browser started in %v", time.Since(start).Round(time.Millisecond))
	if _, ok := ctx.Deadline(); !ok {
		t.Error("the browser context has no deadline")
	}

	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL)); err != nil {
		t.Fatal(err)
	}
	view, err := chromedp.Run(ctx, chromedp.Evaluate[[]float64](`[innerWidth, innerHeight, devicePixelRatio]`))
	if err != nil {
		t.Fatal(err)
	}
	if want := []float64{browsertest.Width, browsertest.Height, 1}; fmt.Sprint(view) != fmt.Sprint(want) {
		t.Errorf("viewport width, height, scale = %v, want %v", view, want)
	}
	text := func() string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("status")))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	if s := text(); s != "never" {
		t.Errorf("status before the click = %q, want never", s)
	}
	// The form posts and the server redirects: wait for the new page.
	resp, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS("button[type=submit]")))
	if err != nil {
		t.Fatal(err)
	}
	if resp.Status != http.StatusOK {
		t.Errorf("after the click: HTTP %d", resp.Status)
	}
	if s := text(); s != "1 time(s), just now" {
		t.Errorf("status after the click = %q", s)
	}

	shot := browsertest.Screenshot(t, ctx)
	browsertest.CompareScreenshot(t, shot, filepath.Join("testdata", "selftest.png"), *update)
	if errs := browsertest.ConsoleErrors(ctx); len(errs) > 0 {
		t.Errorf("console errors on the page: %q", errs)
	}

	for how := range broken {
		t.Run("the page "+how+" differs", func(t *testing.T) {
			t.Setenv(browsertest.EnvArtifacts, t.TempDir())
			if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/broken?how="+url.QueryEscape(how))); err != nil {
				t.Fatal(err)
			}
			failed, msg := outcome(t, browsertest.Screenshot(t, ctx), filepath.Join("testdata", "selftest.png"))
			if !failed {
				t.Errorf("accepted: %s", msg)
			}
			t.Log(msg)
		})
	}

	t.Run("a screenshot has the whole page", func(t *testing.T) {
		if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/tall")); err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(bytes.NewReader(browsertest.Screenshot(t, ctx)))
		if err != nil {
			t.Fatal(err)
		}
		if b := img.Bounds(); b.Dx() != browsertest.Width || b.Dy() != 2500 {
			t.Errorf("the screenshot is %dx%d, want %dx2500", b.Dx(), b.Dy(), browsertest.Width)
		}
	})

	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/console")); err != nil {
		t.Fatal(err)
	}
	errs := browsertest.ConsoleErrors(ctx)
	all := strings.Join(errs, "\n")
	if len(errs) != 2 || !strings.Contains(all, "console.error: x") || !strings.Contains(all, "Error: boom") {
		t.Errorf("console errors = %q, want console.error x and the uncaught Error boom", errs)
	}
	t.Logf("took %v", time.Since(start).Round(time.Millisecond))
}

// TestCleanup checks that a browser from New, and its profile directory, are
// gone once its test ends.
func TestCleanup(t *testing.T) {
	if _, err := os.Stat("/proc/self/cmdline"); err != nil {
		t.Skip("needs /proc")
	}
	var pid int
	var profile string
	t.Run("browser", func(t *testing.T) {
		ctx := browsertest.New(t)
		pid = chromedp.FromContext(ctx).Browser.Process().Pid
		cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if err != nil {
			t.Fatal(err)
		}
		for arg := range strings.SplitSeq(string(cmdline), "\x00") {
			if dir, ok := strings.CutPrefix(arg, "--user-data-dir="); ok {
				profile = dir
			}
		}
		if profile == "" {
			t.Fatalf("no --user-data-dir in %q", cmdline)
		}
	})
	if profile == "" {
		return
	}
	if _, err := os.Stat(profile); !os.IsNotExist(err) {
		t.Errorf("profile %s is still there (%v)", profile, err)
	}
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		b, _ := os.ReadFile(p)
		if bytes.Contains(b, []byte(profile)) {
			t.Errorf("left behind: %s: %s", p, bytes.ReplaceAll(b, []byte{0}, []byte{' '}))
		}
	}
}

// New must not hang when the browser cannot start.
func TestNewFails(t *testing.T) {
	browsertest.Exec(t) // skips without a browser, like the others
	t.Setenv(browsertest.EnvChromium, "/bin/false")
	r := &recorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		browsertest.New(r)
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("New hangs on a browser that exits at once")
	}
	msg := strings.Join(r.msgs, "\n")
	if !r.failed || !strings.Contains(msg, "starting /bin/false") {
		t.Errorf("failed %v: %s", r.failed, msg)
	}
	t.Log(msg)
}
