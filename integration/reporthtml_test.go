package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"image/png"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/distill-build/distill/internal/inspect"
	"github.com/distill-build/distill/internal/report"
	"github.com/distill-build/distill/internal/testenv"
)

// TestReportHTML: distill build --report-html and distill inspect
// --report-html write a page that headless Chromium renders (the screenshot
// is logged and kept in the test's artifact directory: go test -artifacts),
// and the numbers the rendered page holds — each row's sizes, the text of
// its cells, the area of its rectangle as the page's script measures it, the
// sum of the rows — equal the JSON report's (--report-json, inspect --json).
func TestReportHTML(t *testing.T) {
	testenv.Slow(t, "an integration test: builds an image and renders pages in Chromium")
	chromium := testenv.NeedCommand(t, "chromium", "scripts/setup installs it: apt-get install chromium")
	g := sharedGoImage(t)
	art := t.ArtifactDir()

	buildPage := filepath.Join(art, "build.html")
	out := filepath.Join(t.TempDir(), "image")
	b := distill(t, g.app, "-o", "oci:"+out, "--cache-dir", g.cache, "--report-html", buildPage).must(t)
	t.Run("build", func(t *testing.T) {
		var rows []pageRow
		for _, l := range b.report.Layers {
			rows = append(rows, pageRow{name: l.Name, compressed: l.Compressed, uncompressed: l.Uncompressed})
		}
		checkPage(t, chromium, buildPage, rows, b.report.Total.Compressed, b.report.Total.Uncompressed)
	})

	t.Run("inspect", func(t *testing.T) {
		inspectPage := filepath.Join(art, "inspect.html")
		stdout, stderr, err := distillCmd(t, "inspect", "--json", "--report-html", inspectPage, "oci:"+out)
		if err != nil {
			t.Fatalf("distill inspect --report-html: %v\n%s", err, stderr)
		}
		var img inspect.Image
		if err := json.Unmarshal([]byte(stdout), &img); err != nil {
			t.Fatalf("decoding distill inspect --json: %v\n%s", err, stdout)
		}
		var rows []pageRow
		for _, l := range img.Layers {
			rows = append(rows, pageRow{name: l.Source() + "  " + strings.TrimPrefix(l.DiffID, "sha256:")[:12], compressed: l.Compressed, uncompressed: l.Uncompressed})
		}
		if img.Compressed != b.report.Total.Compressed {
			t.Errorf("inspect counts %d bytes compressed, the build's report %d", img.Compressed, b.report.Total.Compressed)
		}
		checkPage(t, chromium, inspectPage, rows, img.Compressed, img.Uncompressed)
	})
}

// pageRow is a row of the layer table as the JSON report gives it.
type pageRow struct {
	name                     string
	compressed, uncompressed int64
}

var (
	trRE    = regexp.MustCompile(`(?s)<tr ([^>]*data-row="\d+"[^>]*)>(.*?)</tr>`)
	attrRE  = regexp.MustCompile(`([a-z-]+)="([^"]*)"`)
	cellRE  = regexp.MustCompile(`<td class="num (compressed|uncompressed)">([^<]*)</td>`)
	tableRE = regexp.MustCompile(`<table id="layers" ([^>]*)>`)
)

// checkPage renders page in Chromium (a screenshot, then the DOM after its
// script ran) and compares what it shows with want.
func checkPage(t *testing.T, chromium, page string, want []pageRow, total, totalUncompressed int64) {
	t.Helper()
	shot := strings.TrimSuffix(page, ".html") + ".png"
	runChromium(t, chromium, "--screenshot="+shot, "--window-size=1280,1500", "file://"+page)
	t.Logf("screenshot of %s: %s", filepath.Base(page), shot)
	checkScreenshot(t, shot)
	dom := runChromium(t, chromium, "--dump-dom", "file://"+page)
	if !strings.Contains(dom, `data-measured="true"`) {
		t.Fatalf("the page's script did not run:\n%.2000s", dom)
	}
	table := attrs(tableRE.FindStringSubmatch(dom)[1])
	if table["data-total-compressed"] != fmt.Sprint(total) || table["data-sum-compressed"] != fmt.Sprint(total) ||
		table["data-total-uncompressed"] != fmt.Sprint(totalUncompressed) {
		t.Errorf("the page's totals %v, want %d compressed (the rows summed too) and %d uncompressed", table, total, totalUncompressed)
	}
	rows := trRE.FindAllStringSubmatch(dom, -1)
	var layerRows [][]string
	for _, r := range rows {
		if strings.Contains(r[1], "data-compressed") {
			layerRows = append(layerRows, r)
		}
	}
	if len(layerRows) != len(want) {
		t.Fatalf("the page has %d layer rows, the JSON report %d", len(layerRows), len(want))
	}
	for i, r := range layerRows {
		got, w := attrs(r[1]), want[i]
		if got["data-name"] != w.name || got["data-compressed"] != fmt.Sprint(w.compressed) || got["data-uncompressed"] != fmt.Sprint(w.uncompressed) {
			t.Errorf("row %d: the page has %q %s %s, the JSON report %q %d %d", i, got["data-name"], got["data-compressed"], got["data-uncompressed"], w.name, w.compressed, w.uncompressed)
		}
		cells := map[string]string{}
		for _, c := range cellRE.FindAllStringSubmatch(r[2], -1) {
			cells[c[1]] = c[2]
		}
		if cells["compressed"] != report.Size(w.compressed) || cells["uncompressed"] != report.Size(w.uncompressed) {
			t.Errorf("row %d (%s) shows %v, want %s and %s", i, w.name, cells, report.Size(w.compressed), report.Size(w.uncompressed))
		}
		area, err := strconv.ParseFloat(got["data-area-bytes"], 64)
		if err != nil || math.Abs(area-float64(w.compressed)) > float64(total)*1e-5 {
			t.Errorf("row %d (%s): its rectangle, as rendered, stands for %q bytes, want %d", i, w.name, got["data-area-bytes"], w.compressed)
		}
	}
	t.Logf("%s: %d layer rows, %d bytes compressed, equal to the JSON report's as rendered", filepath.Base(page), len(want), total)
}

func attrs(tag string) map[string]string {
	m := map[string]string{}
	for _, a := range attrRE.FindAllStringSubmatch(tag, -1) {
		m[a[1]] = html.UnescapeString(a[2])
	}
	return m
}

// runChromium runs headless Chromium with args (its profile in a temporary
// directory) and returns its standard output.
func runChromium(t *testing.T, chromium string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--user-data-dir=" + t.TempDir()}
	cmd := exec.CommandContext(ctx, chromium, append(base, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String()
}

// checkScreenshot asserts the screenshot is a PNG of the window with the
// treemap drawn: many colours, not a blank page.
func checkScreenshot(t *testing.T, p string) {
	t.Helper()
	f, err := os.Open(p)
	if err != nil {
		t.Fatalf("the screenshot: %v", err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("decoding the screenshot %s: %v", p, err)
	}
	colours := map[uint32]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 4 {
		for x := b.Min.X; x < b.Max.X; x += 4 {
			r, g, bl, _ := img.At(x, y).RGBA()
			colours[r>>11<<10|g>>11<<5|bl>>11] = true
		}
	}
	if b.Dx() != 1280 || b.Dy() != 1500 || len(colours) < 8 {
		t.Errorf("the screenshot %s is %dx%d with %d colours; want 1280x1500 with the treemap's colours", p, b.Dx(), b.Dy(), len(colours))
	}
}
