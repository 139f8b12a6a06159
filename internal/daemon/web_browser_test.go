package daemon

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/fedist/fedist/regions"
)

// markupName is a region name that would run script if the page inserted it as markup.
const markupName = `b<script>document.title="xss"</script><img src=x onerror="document.title='xss'">`

// findBrowser returns a Chromium or Chrome binary. Without one the test is skipped, except in CI
// (CI=true), which installs Chromium (.ci/run) and must not skip silently.
func findBrowser(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	const msg = "no chromium, chromium-browser or google-chrome on PATH (apt-get install -y chromium)"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg + ": CI must install it")
	}
	t.Skip(msg)
	return ""
}

// browserRegion is one region the browser test starts.
type browserRegion struct {
	id, name string
	parent   regions.RegionID // 0 for the root
}

// TestBrowserWebView opens the web view of a root in headless Chromium, sees its child regions
// active (a region named with markup shown as text, no element made from it), a route between two
// other regions, and this node's links; then stops region 00b0's node without leaving and sees the
// page turn it down, live, and its route break. With FEDIST_SCREENSHOT=file.png it runs a larger
// federation and saves a screenshot of the page there (docs/webview.png).
func TestBrowserWebView(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a federation and a browser")
	}
	browser := findBrowser(t)
	shot := os.Getenv("FEDIST_SCREENSHOT")
	fed := []browserRegion{{"0001", "root", 0}, {"00a0", "a", 0x0001}, {"00b0", markupName, 0x0001}}
	routeFrom, routeTo := "00a0", "00b0"
	if shot != "" {
		fed = []browserRegion{{"0001", "root", 0}, {"00a0", "europe", 0x0001}, {"00a1", "europe-paris", 0x00a0},
			{"00a2", "europe-berlin", 0x00a0}, {"00b0", "americas", 0x0001}, {"00c0", "asia", 0x0001}}
		routeFrom, routeTo = "00a1", "00b0"
	}
	started := time.Now()
	nodes := map[string]*monitored{}
	for _, r := range fed {
		id, err := regions.ParseRegion(r.id)
		if err != nil {
			t.Fatal(err)
		}
		parent := ""
		if r.parent != 0 {
			parent = nodes[r.parent.String()].n.Broker().LeafURL()
		}
		nodes[r.id] = startBrowserRegion(t, id, r.name, parent)
	}
	t.Logf("federation of %d regions ready in %v", len(fed), time.Since(started).Round(time.Millisecond))

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(browser),
		chromedp.NoSandbox, chromedp.Headless, chromedp.DisableGPU, chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.WindowSize(1400, 1000))
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	defer cancelAlloc()
	ctx, cancelTab := chromedp.NewContext(allocCtx)
	defer cancelTab()
	problems := watchConsole(t, ctx)
	defer problems.stop(t)

	wait := func(what, sel string) {
		t.Helper()
		if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(sel))); err != nil {
			t.Fatalf("waiting for %s (%s): %v", what, sel, err)
		}
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(nodes["0001"].url+"/")); err != nil {
		t.Fatal(err)
	}
	for _, r := range fed {
		wait(r.id+" active", fmt.Sprintf(`#tree li[data-region="%s"][data-status="active"]`, r.id))
	}
	wait("the link to 00a0 up, with its RTT", `#links tr[data-peer="00a0"][data-up="true"]`)

	// Names are text: the markup name shows as written and makes no element; no script ran.
	type seen struct {
		Name   string `json:"name"`
		Markup int    `json:"markup"`
		Title  string `json:"title"`
	}
	got, err := chromedp.Run(ctx, chromedp.Evaluate[seen](`({
		name: document.querySelector('#tree li[data-region="00b0"] > .row > .name').textContent,
		markup: document.querySelectorAll('script:not([src]), img').length,
		title: document.title})`))
	if err != nil {
		t.Fatal(err)
	}
	bName := fed[slices.IndexFunc(fed, func(r browserRegion) bool { return r.id == "00b0" })].name
	if got.Name != bName || got.Markup != 0 || got.Title != "FeDist" {
		t.Fatalf("region 00b0 shown as %+v; want its name %q as text, no inline script or image, title FeDist", got, bName)
	}

	// A route between two regions neither of which is the serving node's.
	pick := fmt.Sprintf(`(() => {
		for (const [id, v] of [['route-from', %q], ['route-to', %q]]) {
			const s = document.getElementById(id);
			s.value = v;
			s.dispatchEvent(new Event('change'));
		}
		return true; })()`, routeFrom, routeTo)
	if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](pick)); err != nil {
		t.Fatal(err)
	}
	path, err := nodes["0001"].n.View().Tree()
	if err != nil {
		t.Fatal(err)
	}
	want, err := path.TreePath(mustRegion(t, routeFrom), mustRegion(t, routeTo))
	if err != nil {
		t.Fatal(err)
	}
	wait("the route "+routeFrom+"→"+routeTo, fmt.Sprintf(`#route-path[data-path=%q] .chip`, idsText(want)))

	// 00b0 stops without leaving: the root marks it down, and the page follows.
	if err := nodes["00b0"].n.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	stopped := time.Now()
	wait("00b0 down", `#tree li[data-region="00b0"][data-status="down"]`)
	t.Logf("page showed 00b0 down %v after its node stopped", time.Since(stopped).Round(time.Millisecond))
	wait("the route to 00b0 broken", `#route-path[data-error="true"] + #route-info`)

	if shot != "" {
		// The screenshot shows a route that works: between two regions that are up.
		if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](strings.Replace(pick, `"00b0"`, `"00c0"`, 1))); err != nil {
			t.Fatal(err)
		}
		wait("the route 00a1→00c0", `#route-path[data-path="00a1 00a0 0001 00c0"] .chip`)
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(shot, png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot saved to %s", shot)
	}
	t.Logf("browser test took %v", time.Since(started).Round(time.Millisecond))
}

// startBrowserRegion starts a ready node of region id, named name, with its Monitor, as
// startMonitored does; its node is "n1", so the region's name may hold any characters.
func startBrowserRegion(t *testing.T, id regions.RegionID, name, parentLeafURL string) *monitored {
	t.Helper()
	return startMonitoredNode(t, id, name, "n1", parentLeafURL, true)
}

func mustRegion(t *testing.T, s string) regions.RegionID {
	t.Helper()
	r, err := regions.ParseRegion(s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func idsText(rs []regions.RegionID) string {
	s := make([]string, len(rs))
	for i, r := range rs {
		s[i] = r.String()
	}
	return strings.Join(s, " ")
}

// consoleWatch collects the page's uncaught exceptions and Content-Security-Policy violations.
type consoleWatch struct {
	cancel context.CancelFunc
	done   chan struct{}
	mu     sync.Mutex // guards bad
	bad    []string
}

func watchConsole(t *testing.T, ctx context.Context) *consoleWatch {
	t.Helper()
	ctx, cancel := context.WithCancel(ctx)
	w := &consoleWatch{cancel: cancel, done: make(chan struct{})}
	msgs := chromedp.Console(ctx) // subscribes now, before the page loads
	go func() {
		defer close(w.done)
		for m, err := range msgs {
			if err != nil {
				return
			}
			if m.IsException() || strings.Contains(m.Text, "Content Security Policy") {
				w.mu.Lock()
				w.bad = append(w.bad, m.String())
				w.mu.Unlock()
			}
		}
	}()
	return w
}

// stop ends the watch and fails the test if the page threw or broke its own policy.
func (w *consoleWatch) stop(t *testing.T) {
	w.cancel()
	<-w.done
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.bad) > 0 {
		t.Errorf("the page reported:\n%s", strings.Join(w.bad, "\n"))
	}
}
