// Package browsertest drives pages in a headless Chromium for tests, with
// chromedp, and compares their screenshots with golden files.
// scripts/with-chromium provides the browser (make test runs every test
// under it).
package browsertest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// EnvChromium names the variable scripts/with-chromium sets to its browser.
const EnvChromium = "OKTASYNC_TEST_CHROMIUM"

// EnvArtifacts names the directory where CompareScreenshot keeps the
// screenshots of a failed comparison (CI can upload it); unset, it makes a
// temporary one.
const EnvArtifacts = "OKTASYNC_TEST_ARTIFACTS"

// The fixed viewport of every browser, so that screenshots compare.
const (
	Width  = 1280
	Height = 900
)

// Timeout bounds the life of a browser from New: a hung browser fails the
// test instead of hanging it until go test's own timeout.
const Timeout = 60 * time.Second

// Exec returns the Chromium to run: $OKTASYNC_TEST_CHROMIUM, else the first
// of chromium, chromium-browser and google-chrome on PATH. Without one the
// test skips, saying how to get one, except in CI (CI=true), where the
// browser tests must run.
func Exec(t testing.TB) string {
	t.Helper()
	if p := os.Getenv(EnvChromium); p != "" {
		path, err := exec.LookPath(p)
		if err != nil {
			// Set but wrong is a broken setup, not a missing browser.
			t.Fatalf("browsertest: %s=%s: %v", EnvChromium, p, err)
		}
		return path
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if path, err := exec.LookPath(name); err == nil {
			return path
		}
	}
	msg := "no Chromium for this test: " + EnvChromium + " is unset and no chromium is on PATH; run make test, which runs the tests under scripts/with-chromium (it installs Debian's chromium package)"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg + "; in CI the browser tests must run")
	}
	t.Skip(msg)
	return ""
}

// New starts a headless Chromium and returns a chromedp context for a tab of
// it, for chromedp.Do and chromedp.Run. Each call starts its own browser. The
// browser has a viewport of Width x Height CSS pixels at device scale 1, a
// temporary profile, and at most Timeout to live; the test's cleanup stops it
// and removes the profile. ConsoleErrors reports what the page logged.
func New(t testing.TB) context.Context {
	t.Helper()
	path := Exec(t)

	deadline := time.Now().Add(Timeout)
	// Leave go test's own timeout room to report which test hung.
	if d, ok := t.(interface{ Deadline() (time.Time, bool) }); ok {
		if td, ok := d.Deadline(); ok && td.Add(-5*time.Second).Before(deadline) {
			deadline = td.Add(-5 * time.Second)
		}
	}
	root, cancelRoot := context.WithDeadline(context.Background(), deadline)
	t.Cleanup(cancelRoot)

	// Chromium 148 sometimes dies of SIGSEGV as it starts (about one start
	// in 50 here, with nothing in its output), so try again a few times.
	for attempt := 1; ; attempt++ {
		ctx, out, err := start(t, root, path)
		if err == nil {
			return ctx
		}
		msg, _, _ := strings.Cut(err.Error(), "\n") // the output follows
		msg = strings.TrimSuffix(msg, ":")
		if attempt == 3 || root.Err() != nil {
			t.Fatalf("browsertest: starting %s: %s (%d attempts)\n%s", path, msg, attempt, browserOutput(out))
		}
		t.Logf("browsertest: starting %s: %s; trying again", path, msg)
	}
}

// start starts a browser for New, and stops it when the test ends.
func start(t testing.TB, root context.Context, path string) (context.Context, *tailBuffer, error) {
	out := &tailBuffer{max: 8 << 10}
	// The defaults already have headless, no first run and no default
	// browser check.
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox,  // CI runs as root, where Chromium needs it
		chromedp.DisableGPU, // and software rendering (SwiftShader)
		chromedp.WindowSize(Width, Height),
		// Screenshots must not depend on the machine's screen or fonts.
		chromedp.Flag("force-device-scale-factor", "1"),
		chromedp.Flag("font-render-hinting", "none"),
		chromedp.Flag("hide-scrollbars", true),
		// Tests talk to loopback servers only; no proxy from the environment.
		chromedp.Flag("no-proxy-server", true),
		chromedp.CombinedOutput(out),
		// No UserDataDir: chromedp makes a temporary one, kills the
		// browser's leftover children and removes it when the browser ends.
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(root, opts...)
	cl := &consoleLog{}
	ctx, cancelCtx := chromedp.NewContext(allocCtx, chromedp.WithListener(cl.listen),
		// chromedp logs to stderr by default; keep it with the browser's
		// output, which a failed test shows.
		chromedp.WithErrorf(func(format string, args ...any) {
			fmt.Fprintf(out, "chromedp: "+format+"\n", args...)
		}))
	stop := func() {
		cancelCtx()   // kills the browser
		cancelAlloc() // waits for it to exit and its profile to go
	}

	// Start the browser now, so a browser that cannot start fails here. In
	// the new headless mode (the only one since Chromium 132) the window
	// size includes some browser UI, so the viewport is set apart.
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(Width, Height, chromedp.EmulateScale(1))); err != nil {
		stop()
		return nil, out, err
	}
	t.Cleanup(func() {
		if t.Failed() {
			if s := browserOutput(out); s != "" {
				t.Logf("browsertest: the browser's output ended with:\n%s", s)
			}
		}
		stop()
	})
	return context.WithValue(ctx, consoleKey{}, cl), out, nil
}

// browserOutput is the end of the browser's output without the lines that
// every run has (D-Bus, missing in containers; the Debian wrapper's test).
func browserOutput(out *tailBuffer) string {
	var keep []string
	for line := range strings.Lines(out.String()) {
		if !strings.Contains(line, ":ERROR:dbus/") && !strings.Contains(line, "unexpected operator") {
			keep = append(keep, line)
		}
	}
	return strings.TrimSpace(strings.Join(keep, ""))
}

// Screenshot returns a PNG of the whole page of the tab, beyond the viewport.
func Screenshot(t testing.TB, ctx context.Context) []byte {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("browsertest: screenshot: %v", err)
	}
	return png
}

type consoleKey struct{}

// consoleLog keeps the errors that a tab reports: console.error and
// console.assert calls, uncaught exceptions and unhandled rejections, and the
// browser's own error entries (such as a stylesheet that failed to load).
type consoleLog struct {
	mu     sync.Mutex
	errors []string
}

// listen runs on chromedp's read loop for the tab, in order of arrival, so it
// only formats and appends.
func (c *consoleLog) listen(ev any) {
	var msg string
	switch ev := ev.(type) {
	case *runtime.EventConsoleAPICalled:
		if ev.Type != runtime.ConsoleAPICalledTypeError && ev.Type != runtime.ConsoleAPICalledTypeAssert {
			return
		}
		var args []string
		for _, a := range ev.Args {
			args = append(args, remoteText(a))
		}
		msg = "console." + string(ev.Type) + ": " + strings.Join(args, " ")
		if st := ev.StackTrace; st != nil && len(st.CallFrames) > 0 {
			f := st.CallFrames[0]
			msg += where(f.URL, f.LineNumber)
		}
	case *runtime.EventExceptionThrown:
		d := ev.ExceptionDetails
		if d == nil {
			return
		}
		msg = d.Text
		if d.Exception != nil {
			// The description of an Error holds its stack; keep its first line.
			desc, _, _ := strings.Cut(remoteText(d.Exception), "\n")
			msg += " " + desc
		}
		msg = "exception: " + msg + where(d.URL, d.LineNumber)
	case *log.EventEntryAdded:
		e := ev.Entry
		if e == nil || e.Level != log.EntryLevelError {
			return
		}
		// The headless browser asks for /favicon.ico by itself, after the
		// load; its 404 says nothing about the page.
		if u, err := url.Parse(e.URL); err == nil && u.Path == "/favicon.ico" && e.Source == log.EntrySourceNetwork {
			return
		}
		msg = string(e.Source) + ": " + e.Text
		if e.URL != "" {
			msg += " (" + e.URL + ")"
		}
	default:
		return
	}
	c.mu.Lock()
	c.errors = append(c.errors, msg)
	c.mu.Unlock()
}

func where(url string, line int64) string {
	if url == "" {
		return ""
	}
	return fmt.Sprintf(" (%s:%d)", url, line+1) // the protocol counts from 0
}

// remoteText renders a console argument as the DevTools console would,
// roughly: strings bare, other values by their JSON or description.
func remoteText(o *runtime.RemoteObject) string {
	if o == nil {
		return "null"
	}
	if len(o.Value) > 0 {
		var s string
		if json.Unmarshal(o.Value, &s) == nil {
			return s
		}
		return string(o.Value)
	}
	if o.UnserializableValue != "" {
		return string(o.UnserializableValue)
	}
	if o.Description != "" {
		return o.Description
	}
	return string(o.Type)
}

// ConsoleErrors returns the errors that the tab of ctx (from New) has
// reported so far: console.error and console.assert calls, uncaught
// exceptions, and the browser's error entries, such as failed loads.
func ConsoleErrors(ctx context.Context) []string {
	cl, _ := ctx.Value(consoleKey{}).(*consoleLog)
	if cl == nil {
		panic("browsertest: ConsoleErrors needs a context from New")
	}
	// A round trip to the page: the browser sends the events that the page
	// caused before the reply, and the listener sees them before it.
	if ctx.Err() == nil {
		rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		chromedp.Call(rctx, runtime.Evaluate, runtime.EvaluateParams{Expression: "0"})
		cancel()
	}
	cl.mu.Lock()
	defer cl.mu.Unlock()
	return append([]string(nil), cl.errors...)
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf bytes.Buffer
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.Write(p)
	if over := b.buf.Len() - b.max; over > 0 {
		b.buf.Next(over)
	}
	return len(p), nil
}

func (b *tailBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// The screenshot comparison: CompareScreenshot compares the mean luminance of
// blocks of blockSize x blockSize pixels, so that antialiasing and hinting,
// which move a few pixels a few levels, average out, while a missing section,
// a collapsed layout or lost styles change many blocks a lot. Only blocks with
// content (not plain background in both images) count towards the share, or
// the white space of a sparse page would hide a missing button.
const (
	blockSize = 16
	// A block differs when its mean moves by more than blockDiff (of 255).
	// Content one pixel off, even diagonally, moves a block's mean by at
	// most 2*255/16 < 32, so such shifts never count.
	blockDiff  = 32
	maxDiffers = 0.01 // share of the blocks with content that may differ
	blankShare = 0.999
)

// heightTolerance is how much taller or shorter than its golden a screenshot
// may be: a font with other metrics moves the end of a long page a little.
func heightTolerance(h int) int { return max(16, h/50) }

// CompareScreenshot compares the PNG got with the PNG file golden. It fails
// the test when got is blank, when its size differs (in height, by more than
// a little), or when more than 1% of its 16x16 blocks that have content
// differ in mean luminance by more than 32 of 255. On failure it writes got,
// the golden and a diff image, with the differing blocks in red, into
// $OKTASYNC_TEST_ARTIFACTS or a new temporary directory, and logs their
// paths. With update, it writes got to golden instead (unless got is blank).
func CompareScreenshot(t testing.TB, got []byte, golden string, update bool) {
	t.Helper()
	gotImg, err := png.Decode(bytes.NewReader(got))
	if err != nil {
		t.Fatalf("browsertest: the screenshot is not a PNG: %v", err)
	}
	if c, share := dominant(gotImg); share >= blankShare {
		saved := saveArtifacts(t, golden, got, nil)
		t.Fatalf("browsertest: the screenshot for %s is blank: one colour (rgba %v) covers %.2f%% of it%s",
			golden, c, 100*share, saved)
	}
	if update {
		if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
		b := gotImg.Bounds()
		t.Logf("browsertest: wrote golden %s (%dx%d); look at it before you commit it", golden, b.Dx(), b.Dy())
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		saved := saveArtifacts(t, golden, got, nil)
		t.Fatalf("browsertest: %v; run the test with -update to write it, and look at it%s", err, saved)
	}
	wantImg, err := png.Decode(bytes.NewReader(want))
	if err != nil {
		t.Fatalf("browsertest: golden %s: %v", golden, err)
	}
	gb, wb := gotImg.Bounds(), wantImg.Bounds()
	if gb.Dx() != wb.Dx() || abs(gb.Dy()-wb.Dy()) > heightTolerance(wb.Dy()) {
		saved := saveArtifacts(t, golden, got, nil)
		t.Fatalf("browsertest: the screenshot is %dx%d, golden %s is %dx%d (the height may differ by %d px)%s",
			gb.Dx(), gb.Dy(), golden, wb.Dx(), wb.Dy(), heightTolerance(wb.Dy()), saved)
	}

	d := diffBlocks(luminance(gotImg), luminance(wantImg))
	share := float64(d.differ) / float64(max(d.content, 1))
	if share <= maxDiffers {
		if d.differ > 0 {
			t.Logf("browsertest: the screenshot matches %s, with %d of its %d blocks with content (%.2f%%) a little off",
				golden, d.differ, d.content, 100*share)
		}
		return
	}
	saved := saveArtifacts(t, golden, got, d.image(gotImg))
	t.Errorf("browsertest: the screenshot differs from golden %s in %.1f%% of its %dx%d blocks with content (%d of %d; at most %.0f%% may), within x %d-%d, y %d-%d%s",
		golden, 100*share, blockSize, blockSize, d.differ, d.content, 100*maxDiffers,
		d.box.Min.X, d.box.Max.X-1, d.box.Min.Y, d.box.Max.Y-1, saved)
}

// Blank reports whether one colour covers (almost) all of the PNG image, as
// when a page did not render. Data that is not a PNG is blank too.
func Blank(pngData []byte) bool {
	img, err := png.Decode(bytes.NewReader(pngData))
	if err != nil {
		return true
	}
	_, share := dominant(img)
	return share >= blankShare
}

// dominant returns the most common colour of img (laid on white) and the
// share of the pixels that have it.
func dominant(img image.Image) (color.RGBA, float64) {
	rgba := onWhite(img)
	n := len(rgba.Pix) / 4
	if n == 0 {
		return color.RGBA{}, 1
	}
	counts := make(map[[4]uint8]int)
	for i := 0; i < len(rgba.Pix); i += 4 {
		counts[[4]uint8(rgba.Pix[i:i+4])]++
	}
	var best [4]uint8
	most := -1
	for c, k := range counts {
		if k > most {
			best, most = c, k
		}
	}
	return color.RGBA{best[0], best[1], best[2], best[3]}, float64(most) / float64(n)
}

// onWhite returns img laid on a white background, at origin 0,0.
func onWhite(img image.Image) *image.RGBA {
	b := img.Bounds()
	rgba := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(rgba, rgba.Bounds(), image.White, image.Point{}, draw.Src)
	draw.Draw(rgba, rgba.Bounds(), img, b.Min, draw.Over)
	return rgba
}

// gray is a luminance plane, 0-255, of an image laid on white.
type gray struct {
	w, h int
	pix  []uint8
}

func luminance(img image.Image) gray {
	rgba := onWhite(img)
	b := rgba.Bounds()
	g := gray{w: b.Dx(), h: b.Dy(), pix: make([]uint8, b.Dx()*b.Dy())}
	for i := range g.pix {
		p := rgba.Pix[4*i : 4*i+3 : 4*i+3]
		// Rec. 709 weights, in integers.
		g.pix[i] = uint8((2126*int(p[0]) + 7152*int(p[1]) + 722*int(p[2])) / 10000)
	}
	return g
}

// blockDiffs is the result of diffBlocks.
type blockDiffs struct {
	cols, rows      int
	differs         []bool // by row, then column
	differ, content int
	box             image.Rectangle // the pixels of the differing blocks
}

// diffBlocks compares the block means of got and want over their common
// height. A block has content unless it is all background (the commonest
// luminance of want) in both.
func diffBlocks(got, want gray) blockDiffs {
	var hist [256]int
	for _, v := range want.pix {
		hist[v]++
	}
	bg := uint8(0)
	for v, n := range hist {
		if n > hist[bg] {
			bg = uint8(v)
		}
	}
	h := min(got.h, want.h)
	d := blockDiffs{cols: (got.w + blockSize - 1) / blockSize, rows: (h + blockSize - 1) / blockSize}
	d.differs = make([]bool, d.cols*d.rows)
	for r := range d.rows {
		for c := range d.cols {
			blk := image.Rect(c*blockSize, r*blockSize, min((c+1)*blockSize, got.w), min((r+1)*blockSize, h))
			if got.only(blk, bg) && want.only(blk, bg) {
				continue
			}
			d.content++
			if abs(got.mean(blk)-want.mean(blk)) > blockDiff {
				d.differs[r*d.cols+c] = true
				d.differ++
				d.box = d.box.Union(blk)
			}
		}
	}
	return d
}

// only reports whether every pixel of r has the value v.
func (g gray) only(r image.Rectangle, v uint8) bool {
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for _, p := range g.pix[y*g.w+r.Min.X : y*g.w+r.Max.X] {
			if p != v {
				return false
			}
		}
	}
	return true
}

func (g gray) mean(r image.Rectangle) int {
	sum := 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for _, v := range g.pix[y*g.w+r.Min.X : y*g.w+r.Max.X] {
			sum += int(v)
		}
	}
	return sum / (r.Dx() * r.Dy())
}

// image draws img faded to gray, with the differing blocks in red.
func (d blockDiffs) image(img image.Image) []byte {
	g := luminance(img)
	out := image.NewRGBA(image.Rect(0, 0, g.w, g.h))
	for y := range g.h {
		for x := range g.w {
			v := 128 + g.pix[y*g.w+x]/2
			c := color.RGBA{v, v, v, 255}
			r, col := y/blockSize, x/blockSize
			if r < d.rows && d.differs[r*d.cols+col] {
				c = color.RGBA{255, v - 96, v - 96, 255} // red, the page still visible
			}
			out.SetRGBA(x, y, c)
		}
	}
	var buf bytes.Buffer
	png.Encode(&buf, out)
	return buf.Bytes()
}

// tempArtifacts is the directory for the screenshots of failed comparisons
// when $OKTASYNC_TEST_ARTIFACTS is unset: one per test binary.
var tempArtifacts = sync.OnceValues(func() (string, error) {
	return os.MkdirTemp("", "oktasync-browsertest-")
})

// saveArtifacts writes got, the golden (when there is one) and diff (when not
// nil) for a failed comparison, and returns a note of where, for the message.
// They go to $OKTASYNC_TEST_ARTIFACTS (which CI can keep), else to one
// temporary directory per test binary that outlives the test.
func saveArtifacts(t testing.TB, golden string, got, diff []byte) string {
	t.Helper()
	dir, err := os.Getenv(EnvArtifacts), error(nil)
	if dir != "" {
		err = os.MkdirAll(dir, 0o755)
	} else {
		dir, err = tempArtifacts()
	}
	if err != nil {
		t.Logf("browsertest: cannot keep the screenshots: %v", err)
		return ""
	}
	name := strings.Map(func(r rune) rune {
		if r == '/' || r == '\\' || r == ' ' || r == ':' {
			return '_'
		}
		return r
	}, t.Name()) + "-" + strings.TrimSuffix(filepath.Base(golden), ".png")
	base := filepath.Join(dir, name)
	files := map[string][]byte{base + ".got.png": got}
	if want, err := os.ReadFile(golden); err == nil {
		files[base+".want.png"] = want
	}
	if diff != nil {
		files[base+".diff.png"] = diff
	}
	var paths []string
	for path, data := range files {
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Logf("browsertest: %v", err)
			continue
		}
		paths = append(paths, path)
	}
	sort.Strings(paths)
	return "\n\t" + strings.Join(paths, "\n\t")
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}
