package platform

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/distill-build/distill/internal/sandbox"
)

func TestDirectSandbox(t *testing.T) {
	uid, gid := os.Getuid(), os.Getgid()
	ids := []string{"CNB_USER_ID=" + strconv.Itoa(uid), "CNB_GROUP_ID=" + strconv.Itoa(gid)}
	for _, tc := range []struct {
		name    string
		env     []string
		dirs    []string // created under the host's root
		files   []string // created as files under the root
		wantErr []string
		wantEnv map[string]string // "" = must be absent
	}{
		{name: "inside the build image", dirs: []string{"workspace", "layers"},
			env: append([]string{"PATH=/usr/bin", "HOME=/home/cnb", "DISTILL_TOOLS=/x", "PWD=/src", "SHLVL=1", "CNB_STACK_ID=s"}, ids...),
			wantEnv: map[string]string{"PATH": "/usr/bin", "HOME": "/home/cnb", "CNB_STACK_ID": "s", "CNB_USER_ID": strconv.Itoa(uid),
				"DISTILL_TOOLS": "", "PWD": "", "SHLVL": ""}},
		{name: "no HOME gets one", dirs: []string{"workspace", "layers"}, env: ids,
			wantEnv: map[string]string{"HOME": os.TempDir()}},
		{name: "not a CNB image", dirs: []string{"workspace", "layers"}, env: []string{"PATH=/usr/bin"},
			wantErr: []string{"CNB_USER_ID is not set", "no runc here", "run distill as root", "run it as the CNB user inside the build image"}},
		{name: "another user", dirs: []string{"workspace", "layers"}, env: []string{"CNB_USER_ID=" + strconv.Itoa(uid+1), "CNB_GROUP_ID=" + strconv.Itoa(gid)},
			wantErr: []string{"CNB_USER_ID=" + strconv.Itoa(uid+1) + ", but distill runs as"}},
		{name: "no layers dir", dirs: []string{"workspace"}, env: ids,
			wantErr: []string{"layers is not a directory it can write"}},
		{name: "workspace is a file", dirs: []string{"layers"}, files: []string{"workspace"}, env: ids,
			wantErr: []string{"workspace is not a directory it can write: not a directory"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			for _, d := range tc.dirs {
				os.MkdirAll(filepath.Join(root, d), 0o755)
			}
			for _, f := range tc.files {
				os.WriteFile(filepath.Join(root, f), nil, 0o644)
			}
			box, err := directSandbox(host{uid: uid, gid: gid, containerProblem: "no runc here", env: tc.env, root: root})
			if len(tc.wantErr) > 0 {
				for _, w := range tc.wantErr {
					if err == nil || !strings.Contains(err.Error(), w) {
						t.Errorf("err = %v, want %q", err, w)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := box.runner.(sandbox.Direct); !ok || !box.direct || box.layout.Root != root || box.uid != uid || box.gid != gid {
				t.Errorf("sandbox = %+v, want Direct in place at %s as %d:%d", box, root, uid, gid)
			}
			for k, want := range tc.wantEnv {
				if got, ok := box.env[k]; got != want || (want == "" && ok) {
					t.Errorf("env %s = %q (set %v), want %q", k, got, ok, want)
				}
			}
		})
	}
}
