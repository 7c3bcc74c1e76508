package app

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"image/color"
	"image/png"
	"io"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	cdpruntime "github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/burnwatch/burnwatch/app/web"
)

var update = flag.Bool("update", false, "write the status page's screenshots to testdata/")

// TestPageIsServed: the page and its assets come from the binary, with a
// content security policy that lets the page reach nothing but the daemon.
func TestPageIsServed(t *testing.T) {
	a, _, _ := statusApp(t)
	base := apiServer(t, a, HandlerOptions{})
	for _, tc := range []struct {
		path, contentType, contains string
		status                      int
	}{
		{"/", "text/html", `<script src="static/app.js"`, http.StatusOK},
		{"/static/app.js", "text/javascript", "api/v1/slos", http.StatusOK},
		{"/static/style.css", "text/css", "--bad", http.StatusOK},
		{"/static/", "", "", http.StatusNotFound},
		{"/static/nope.js", "", "", http.StatusNotFound},
		{"/index.html", "", "", http.StatusNotFound},
	} {
		resp, err := http.Get(base + tc.path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.status {
			t.Errorf("GET %s: %s, want %d", tc.path, resp.Status, tc.status)
			continue
		}
		if tc.status != http.StatusOK {
			continue
		}
		if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, tc.contentType) {
			t.Errorf("GET %s: Content-Type %q, want %s", tc.path, ct, tc.contentType)
		}
		if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "connect-src 'self'") {
			t.Errorf("GET %s: Content-Security-Policy %q", tc.path, csp)
		}
		if !bytes.Contains(body, []byte(tc.contains)) {
			t.Errorf("GET %s does not contain %q", tc.path, tc.contains)
		}
	}
}

// TestPageNeedsNoNetwork: no asset names another host; the SVG namespace
// is a name, not a fetch.
func TestPageNeedsNoNetwork(t *testing.T) {
	url := regexp.MustCompile(`(?i)(https?:)?//[a-z0-9.-]+\.[a-z]{2,}`)
	err := fs.WalkDir(web.Assets(), ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(web.Assets(), path)
		if err != nil {
			return err
		}
		for _, m := range url.FindAll(data, -1) {
			if string(m) != "http://www.w3.org" {
				t.Errorf("%s refers to %s", path, m)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// browserApp is statusSpecs after a day of traffic at 5-minute steps:
// steady until the last 15 minutes, when 60% of checkouts fail. By hand:
// checkout's hour holds 180 bad of 1200 (burn 15) and its last 5 minutes
// 60 of 100 (burn 60), over the page tier's 14.4, while its 6 hours (burn
// 2.5) stay under the ticket's 6; search never fails.
func browserApp(t *testing.T) *App {
	t.Helper()
	a := startApp(t, statusConfig(t, statusSpecs))
	end := time.Now()
	const steps = 288
	for i := steps - 1; i >= 0; i-- {
		now := end.Add(-time.Duration(i) * 5 * time.Minute)
		errs, slow := 0, 0
		if i < 3 {
			errs = 60
		}
		if i%2 == 0 {
			slow = 1 // checkout-latency spends half its budget over the day
		}
		evs := append(events(100, "checkout", now, errs, slow), events(100, "search", now, 0, 0)...)
		if err := a.observe(now, evs); err != nil {
			t.Fatal(err)
		}
		evaluateAt(a, now)
	}
	return a
}

// TestPageInChromium loads the page in headless Chromium: the burning SLO
// shows as burning and the healthy one does not, the SLO page draws its
// charts, and full-page screenshots are not blank.
func TestPageInChromium(t *testing.T) {
	browser := findChromium()
	if browser == "" {
		t.Skip("no Chromium found (apt-get install chromium): skipping the browser test")
	}
	a := browserApp(t)
	base := apiServer(t, a, HandlerOptions{Version: "test"})

	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(browser),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	// Script errors fail the test: exceptions and console.error.
	var mu sync.Mutex
	var scriptErrors []string
	browserCtx, cancelBrowser := chromedp.NewContext(actx, chromedp.WithListener(func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch ev := ev.(type) {
		case *cdpruntime.EventExceptionThrown:
			d := ev.ExceptionDetails
			msg := fmt.Sprintf("%s at %s:%d", d.Text, d.URL, d.LineNumber+1)
			if d.Exception != nil {
				msg += ": " + d.Exception.Description
			}
			scriptErrors = append(scriptErrors, msg)
		case *cdpruntime.EventConsoleAPICalled:
			if ev.Type == cdpruntime.ConsoleAPICalledTypeError {
				for _, arg := range ev.Args {
					scriptErrors = append(scriptErrors, string(arg.Value)+arg.Description)
				}
			}
		}
	}))
	defer cancelBrowser()
	// The first action starts the browser, which lives as long as its
	// context: no timeout on that one; the rest must be done in 20s.
	if err := chromedp.Do(browserCtx, chromedp.Navigate(base+"/")); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(browserCtx, 20*time.Second)
	defer cancel()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	attr := func(sel, name string) string {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.CSS(sel), name))
		must(err)
		return v.Value
	}
	text := func(sel string) string {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		must(err)
		return v
	}

	must(chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(`tr[data-slo="search-availability"]`))))
	if state, row := attr(`tr[data-slo="checkout-availability"]`, "data-state"), text(`tr[data-slo="checkout-availability"]`); state != "firing" || !strings.Contains(strings.ToLower(row), "burning") {
		t.Errorf("checkout-availability shows as %q: %q", state, row)
	}
	if state, row := attr(`tr[data-slo="search-availability"]`, "data-state"), text(`tr[data-slo="search-availability"]`); state != "ok" || strings.Contains(strings.ToLower(row), "burning") {
		t.Errorf("search-availability shows as %q: %q; want ok", state, row)
	}
	if rows := text(`#alert-rows`); !strings.Contains(rows, "checkout-availability") {
		t.Errorf("active alerts do not list checkout-availability: %q", rows)
	}
	list, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	must(err)

	must(chromedp.Do(ctx, chromedp.Navigate(base+"/#/slo/checkout-availability"),
		chromedp.WaitVisible(chromedp.CSS(`#burndown svg path.line`)),
		chromedp.WaitVisible(chromedp.CSS(`#burn-charts figure[data-tier="ticket"] svg line.factor`))))
	charts, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#detail svg path.line").length`))
	must(err)
	if state := attr(`#detail-hero`, "data-state"); state != "firing" || charts != 3 {
		t.Errorf("SLO page: state %q, %d charts drawn; want firing and 3 (burn-down, two tiers)", state, charts)
	}
	detail, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	must(err)

	mu.Lock()
	for _, e := range scriptErrors {
		t.Errorf("script error: %s", e)
	}
	mu.Unlock()

	for name, shot := range map[string][]byte{"status-page.png": list, "status-page-slo.png": detail} {
		checkNotBlank(t, name, shot)
		if err := os.WriteFile(filepath.Join(t.TempDir(), name), shot, 0o644); err != nil {
			t.Fatal(err)
		}
		if *update {
			if err := os.WriteFile(filepath.Join("testdata", name), shot, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// findChromium returns the path of a Chromium or Chrome binary, or "".
func findChromium() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// checkNotBlank decodes a PNG screenshot and wants it to hold a page: many
// colours, and a good share of pixels unlike the background (the top-left
// corner's).
func checkNotBlank(t *testing.T, name string, data []byte) {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	b := img.Bounds()
	bg := img.At(b.Min.X, b.Min.Y)
	colours := map[[4]uint32]struct{}{}
	var other, all int
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			c := img.At(x, y)
			r, g, bl, al := c.RGBA()
			colours[[4]uint32{r, g, bl, al}] = struct{}{}
			if !sameColour(c, bg) {
				other++
			}
			all++
		}
	}
	if b.Dx() < 800 || b.Dy() < 600 || len(colours) < 50 || other*20 < all {
		t.Errorf("%s looks blank: %dx%d, %d colours, %d of %d pixels unlike the background", name, b.Dx(), b.Dy(), len(colours), other, all)
	}
}

func sameColour(a, b color.Color) bool {
	r1, g1, b1, a1 := a.RGBA()
	r2, g2, b2, a2 := b.RGBA()
	return r1 == r2 && g1 == g2 && b1 == b2 && a1 == a2
}
