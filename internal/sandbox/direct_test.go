package sandbox

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestDirect runs real processes through /bin/sh on this system, as the
// current user, and checks what Direct honours and what it refuses.
func TestDirect(t *testing.T) {
	data := t.TempDir()
	if err := os.WriteFile(filepath.Join(data, "in.txt"), []byte("hello"), 0o644); err != nil {
		t.Fatal(err)
	}
	uid, gid := os.Getuid(), os.Getgid()
	for _, tc := range []struct {
		name     string
		script   string
		p        Process // Args, Stdout and Stderr are filled in
		wantCode int     // -1: refused before it ran
		wantErr  string
		want     []string // in the output
	}{
		{name: "runs in Dir with Env", script: `echo "cwd=$(pwd) x=$X in=$(cat in.txt)"; echo out > out.txt`,
			p:    Process{Dir: data, Env: []string{"X=1", "PATH=/usr/bin:/bin"}, UID: uid, GID: gid},
			want: []string{"cwd=" + data + " x=1 in=hello"}},
		{name: "identity mount", script: `cat ` + data + `/in.txt`,
			p:    Process{UID: uid, GID: gid, Mounts: []Mount{{Source: data, Destination: data + "/", ReadOnly: true}}},
			want: []string{"hello"}},
		{name: "private home", script: `case "$HOME" in /home/cnb) echo shared;; esac; test -z "$(ls -A "$HOME")" && touch "$HOME/x" && stat -c 'home=%a' "$HOME"`,
			p:    Process{UID: uid, GID: gid, Home: "/home/cnb", Env: []string{"HOME=/home/cnb", "PATH=/usr/bin:/bin"}},
			want: []string{"home=700"}},
		{name: "no env inherited", script: `echo "leak=$DIRECT_TEST_LEAK"`,
			p: Process{UID: uid, GID: gid}, want: []string{"leak=\n"}},
		{name: "detect fail code", script: `exit 100`, p: Process{UID: uid, GID: gid}, wantCode: 100},
		{name: "other uid refused", script: `echo ran`, p: Process{UID: uid + 1, GID: gid}, wantCode: -1,
			wantErr: "cannot switch users"},
		{name: "other gid refused", script: `echo ran`, p: Process{UID: uid, GID: gid + 1}, wantCode: -1,
			wantErr: "cannot switch users"},
		{name: "moving mount refused", script: `echo ran`,
			p:        Process{UID: uid, GID: gid, Mounts: []Mount{{Source: data, Destination: "/workspace"}}},
			wantCode: -1, wantErr: "cannot mount " + data + " at /workspace"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("DIRECT_TEST_LEAK", "yes")
			var out bytes.Buffer
			p := tc.p
			p.Args = []string{"/bin/sh", "-c", tc.script}
			p.Stdout, p.Stderr = &out, &out
			err := Direct{}.Run(context.Background(), p)
			var exit *ExitError
			switch {
			case tc.wantCode == 0 && err != nil:
				t.Fatalf("run: %v\n%s", err, out.String())
			case tc.wantCode > 0 && (!errors.As(err, &exit) || exit.Code != tc.wantCode):
				t.Fatalf("err = %v, want exit %d", err, tc.wantCode)
			case tc.wantCode < 0 && (err == nil || errors.As(err, &exit) || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("err = %v, want a refusal with %q", err, tc.wantErr)
			case tc.wantCode < 0 && out.Len() > 0:
				t.Fatalf("a refused process ran: %s", out.String())
			}
			for _, w := range tc.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("output %q lacks %q", out.String(), w)
				}
			}
		})
	}
	if b, err := os.ReadFile(filepath.Join(data, "out.txt")); err != nil || string(b) != "out\n" {
		t.Errorf("the process did not write into its Dir: %q %v", b, err)
	}
}

// TestDirectHomeRemoved: the private home is gone once the process ended.
func TestDirectHomeRemoved(t *testing.T) {
	var out bytes.Buffer
	err := Direct{}.Run(context.Background(), Process{Args: []string{"/bin/sh", "-c", `echo "$HOME"`},
		Home: "/home/cnb", UID: os.Getuid(), GID: os.Getgid(), Stdout: &out, Stderr: &out})
	if err != nil {
		t.Fatal(err)
	}
	home := strings.TrimSpace(out.String())
	if home == "" || home == "/home/cnb" {
		t.Fatalf("HOME = %q, want a private directory", home)
	}
	if _, err := os.Stat(home); !os.IsNotExist(err) {
		t.Errorf("%s still exists (%v)", home, err)
	}
}

// TestDirectCancel: cancelling the context kills the process and its children.
func TestDirectCancel(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := Direct{}.Run(ctx, Process{Args: []string{"/bin/sh", "-c", "sleep 30 & sleep 30; wait"},
		UID: os.Getuid(), GID: os.Getgid(), Stdout: &bytes.Buffer{}, Stderr: &bytes.Buffer{}})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want the context's", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("Run returned after %s", d)
	}
}
