// Package cacheprune keeps distill's user cache from growing without bound.
//
// Some cache entries are kept per version of something that changes: the
// embedded builder per distill binary (builder/<digest>), the unpacked build
// image per image digest (rootfs/<digest>, about 1.2 GB each), extracted
// builder images (builders/<digest>) and the build cache of each app
// directory (cache/<hash of the path>). Nothing reuses an entry once its
// binary, image or app is gone, so entries nobody has used for MaxAge are
// removed, as BuildKit's garbage collector drops build cache unused for a
// while. Every user of an entry marks it with Use (its modification time is
// the last use); Prune removes the rest.
package cacheprune

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Kinds are the directories of the cache root whose entries Prune removes
// once unused: each subdirectory of one of them is one entry.
var Kinds = []string{"builder", "builders", "rootfs", "cache"}

// DefaultMaxAge is how long an unused entry stays: two weeks.
const DefaultMaxAge = 14 * 24 * time.Hour

// MaxAgeEnv names the environment variable that overrides DefaultMaxAge:
// a number of days ("30d"), a Go duration ("36h"), or "off" to never prune.
const MaxAgeEnv = "DISTILL_CACHE_MAX_AGE"

// Use marks the cache entry dir as used now. A missing dir is not an error
// (nothing to keep).
func Use(dir string) error {
	now := time.Now()
	if err := os.Chtimes(dir, now, now); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("marking cache entry %s as used: %w", dir, err)
	}
	return nil
}

// ParseMaxAge reads a MaxAgeEnv value: "" is DefaultMaxAge, "off" is 0
// (never prune), "Nd" is N days, anything else a positive Go duration.
func ParseMaxAge(v string) (time.Duration, error) {
	switch {
	case v == "":
		return DefaultMaxAge, nil
	case v == "off":
		return 0, nil
	case strings.HasSuffix(v, "d"):
		n, err := strconv.Atoi(strings.TrimSuffix(v, "d"))
		if err == nil && n > 0 {
			return time.Duration(n) * 24 * time.Hour, nil
		}
	default:
		if d, err := time.ParseDuration(v); err == nil && d > 0 {
			return d, nil
		}
	}
	return 0, fmt.Errorf("%s=%q: want a number of days (14d), a duration (36h) or off", MaxAgeEnv, v)
}

// Removed is what Prune removed: entries, and the sizes of their regular
// files in bytes.
type Removed struct {
	Entries int
	Bytes   int64
}

// Prune removes every entry of the Kinds under root last used before
// now-maxAge; maxAge 0 removes nothing. Entries whose names start with "."
// are the temporaries of an entry being written: they go only when a day and
// maxAge have passed, which no write takes. It returns what it removed and
// every error, having tried every entry.
func Prune(root string, maxAge time.Duration, now time.Time) (Removed, error) {
	var r Removed
	if maxAge <= 0 {
		return r, nil
	}
	var errs []error
	for _, kind := range Kinds {
		entries, err := os.ReadDir(filepath.Join(root, kind))
		if err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				errs = append(errs, err)
			}
			continue
		}
		for _, e := range entries {
			info, err := e.Info()
			if err != nil || !e.IsDir() || now.Sub(info.ModTime()) < keepFor(e.Name(), maxAge) {
				continue
			}
			dir := filepath.Join(root, kind, e.Name())
			size := diskUsage(dir)
			if err := os.RemoveAll(dir); err != nil {
				errs = append(errs, fmt.Errorf("removing unused cache entry %s: %w", dir, err))
				continue
			}
			r.Entries++
			r.Bytes += size
		}
	}
	return r, errors.Join(errs...)
}

// keepFor is how long the entry name stays unused before it goes.
func keepFor(name string, maxAge time.Duration) time.Duration {
	if strings.HasPrefix(name, ".") {
		return max(maxAge, 24*time.Hour)
	}
	return maxAge
}

// diskUsage is the size of the regular files under dir, in bytes; what it
// cannot read counts as 0.
func diskUsage(dir string) int64 {
	var n int64
	_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if info, err := d.Info(); err == nil {
				n += info.Size()
			}
		}
		return nil
	})
	return n
}
