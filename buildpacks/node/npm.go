package node

import (
	"bytes"
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/distill-build/distill/internal/archive"
)

// npmClient runs an npm command line: the build image's npm (Debian's, with Debian's node) to fetch
// Node.js itself and the package managers, so the app's .npmrc, npm_config_* variables and the
// npmrc binding decide the registry and its credentials; nothing here names a registry.
type npmClient struct {
	Argv []string // e.g. /usr/bin/node /usr/share/nodejs/npm/bin/npm-cli.js
	Dir  string   // working directory: the app, so its .npmrc applies
	Env  []string
}

// findBootstrapNpm finds the build image's npm and the node that runs it (the node beside it, so a
// distribution's npm runs with its own node and module paths).
func findBootstrapNpm() ([]string, error) {
	npm, err := exec.LookPath("npm")
	if err != nil {
		return nil, errors.New("no npm in the build image: the Node.js buildpack fetches Node.js with the build image's npm client")
	}
	cli, err := filepath.EvalSymlinks(npm)
	if err != nil {
		return nil, fmt.Errorf("unable to resolve %s: %w", npm, err)
	}
	node := filepath.Join(filepath.Dir(npm), "node")
	if _, err := os.Stat(node); err != nil {
		if node, err = exec.LookPath("node"); err != nil {
			return nil, errors.New("no node in the build image to run its npm client")
		}
	}
	return []string{node, cli}, nil
}

func (c npmClient) command(args ...string) *exec.Cmd {
	cmd := exec.Command(c.Argv[0], append(append([]string{}, c.Argv[1:]...), args...)...)
	cmd.Dir = c.Dir
	cmd.Env = c.Env
	return cmd
}

// run runs npm and returns its stdout; a failure carries npm's stderr.
func (c npmClient) run(args ...string) ([]byte, error) {
	cmd := c.command(args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return out, fmt.Errorf("npm %s: %v\n%s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()+"\n"+string(out)))
	}
	return out, nil
}

// versions lists the published versions of pkg.
func (c npmClient) versions(pkg string) ([]string, error) {
	out, err := c.run("view", pkg, "versions", "--json")
	if err != nil {
		return nil, err
	}
	var list []string
	if err := json.Unmarshal(out, &list); err != nil {
		var one string
		if err2 := json.Unmarshal(out, &one); err2 != nil {
			return nil, fmt.Errorf("npm view %s versions: unexpected output %.200q", pkg, out)
		}
		list = []string{one}
	}
	return list, nil
}

// releaseEngines lists every published version of pkg matching spec (all when empty) with its
// engines.node ("" when the release declares none), in one registry query: npm view with a range
// answers for each matching version.
func (c npmClient) releaseEngines(pkg, spec string) (map[string]string, error) {
	if spec == "" || spec == "*" {
		spec = ">=0.0.0" // npm view reads "*" as the latest tag, a range as every match
	}
	out, err := c.run("view", pkg+"@"+spec, "version", "engines.node", "--json")
	if err != nil {
		return nil, err
	}
	return parseReleaseEngines(out)
}

// parseReleaseEngines reads npm view's answer for version and engines.node: an array of objects
// for several versions, one object for a single version, nothing for none.
func parseReleaseEngines(out []byte) (map[string]string, error) {
	type entry struct {
		Version string `json:"version"`
		Engines string `json:"engines.node"`
	}
	out = bytes.TrimSpace(out)
	var list []entry
	if len(out) > 0 && out[0] == '{' {
		var one entry
		if err := json.Unmarshal(out, &one); err != nil {
			return nil, fmt.Errorf("npm view: unexpected output %.200q", out)
		}
		list = []entry{one}
	} else if len(out) > 0 {
		if err := json.Unmarshal(out, &list); err != nil {
			return nil, fmt.Errorf("npm view: unexpected output %.200q", out)
		}
	}
	res := make(map[string]string, len(list))
	for _, e := range list {
		if e.Version != "" {
			res[e.Version] = e.Engines
		}
	}
	return res, nil
}

// viewField reads one field of pkg@version's registry metadata ("" when absent).
func (c npmClient) viewField(spec, field string) (string, error) {
	out, err := c.run("view", spec, field, "--json")
	if err != nil {
		return "", err
	}
	out = bytes.TrimSpace(out)
	if len(out) == 0 {
		return "", nil
	}
	var s string
	if err := json.Unmarshal(out, &s); err != nil {
		return "", fmt.Errorf("npm view %s %s: unexpected output %.200q", spec, field, out)
	}
	return s, nil
}

// fetch downloads pkg@version's tarball into dir with npm pack and checks it against the
// registry's dist.integrity (npm's own check happens as well). It returns the tarball's path and
// its SRI sha512.
func (c npmClient) fetch(pkg, version, dir string) (string, string, error) {
	spec := pkg + "@" + version
	want, err := c.viewField(spec, "dist.integrity")
	if err != nil {
		return "", "", err
	}
	if want == "" {
		return "", "", fmt.Errorf("the registry gives no dist.integrity for %s: refusing an unverifiable download", spec)
	}
	out, err := c.run("pack", spec, "--json", "--pack-destination", dir)
	if err != nil {
		return "", "", err
	}
	var packed []struct {
		Filename string `json:"filename"`
	}
	if err := json.Unmarshal(out, &packed); err != nil || len(packed) != 1 {
		return "", "", fmt.Errorf("npm pack %s: unexpected output %.300q", spec, out)
	}
	file := filepath.Join(dir, filepath.Base(packed[0].Filename))
	got, err := verifyIntegrity(file, want)
	if err != nil {
		return "", "", fmt.Errorf("%s: %w", spec, err)
	}
	return file, got, nil
}

// verifyIntegrity checks file against an SRI string ("sha512-<base64> [sha1-…]"), using the
// strongest algorithm it names, and returns the file's sha512 SRI.
func verifyIntegrity(file, sri string) (string, error) {
	algos := map[string]func() hash.Hash{"sha512": sha512.New, "sha384": sha512.New384, "sha256": sha256.New, "sha1": sha1.New}
	rank := map[string]int{"sha512": 4, "sha384": 3, "sha256": 2, "sha1": 1}
	best, bestDigest := "", ""
	for _, f := range strings.Fields(sri) {
		algo, digest, ok := strings.Cut(f, "-")
		if _, known := algos[algo]; ok && known && rank[algo] > rank[best] {
			best, bestDigest = algo, strings.SplitN(digest, "?", 2)[0]
		}
	}
	if best == "" {
		return "", fmt.Errorf("integrity %q names no supported hash", sri)
	}
	sums, err := fileSums(file, algos[best], sha512.New)
	if err != nil {
		return "", err
	}
	if got := base64.StdEncoding.EncodeToString(sums[0]); got != bestDigest {
		return "", fmt.Errorf("integrity check failed for %s: %s-%s, registry says %s-%s", filepath.Base(file), best, got, best, bestDigest)
	}
	return "sha512-" + base64.StdEncoding.EncodeToString(sums[1]), nil
}

// verifyHex checks the file against a hex digest (packageManager's "+sha512.<hex>").
func verifyHex(file, algo, want string) error {
	algos := map[string]func() hash.Hash{"sha512": sha512.New, "sha384": sha512.New384, "sha256": sha256.New, "sha224": sha256.New224, "sha1": sha1.New}
	h, ok := algos[algo]
	if !ok {
		return fmt.Errorf("unsupported hash algorithm %q", algo)
	}
	sums, err := fileSums(file, h)
	if err != nil {
		return err
	}
	if got := hex.EncodeToString(sums[0]); got != want {
		return fmt.Errorf("%s of %s is %s, packageManager says %s", algo, filepath.Base(file), got, want)
	}
	return nil
}

func fileSums(file string, hs ...func() hash.Hash) ([][]byte, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var ws []io.Writer
	var hh []hash.Hash
	for _, h := range hs {
		x := h()
		hh = append(hh, x)
		ws = append(ws, x)
	}
	if _, err := io.Copy(io.MultiWriter(ws...), f); err != nil {
		return nil, err
	}
	var out [][]byte
	for _, x := range hh {
		out = append(out, x.Sum(nil))
	}
	return out, nil
}

// extractPackage unpacks the npm package tarball at path into dest,
// dropping the first path component ("package/"), through archive.Extract:
// nothing lands outside dest, and symlinks leading out of it, devices and
// setuid files fail with an error naming the tarball and the entry.
func extractPackage(tarball, dest string) error {
	return archive.ExtractFile(context.Background(), tarball, dest, archive.StripComponents(1))
}

func decodeB64(s string) ([]byte, error) { return base64.StdEncoding.DecodeString(s) }
