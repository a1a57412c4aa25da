package main

import "testing"

func TestImageName(t *testing.T) {
	for _, tc := range []struct{ dir, want string }{
		{"go-mux", "go-mux"},
		{"My App", "my-app"},
		{"__init__", "init"},
		{"Ünïcode", "n-code"},
		{"...", "app"},
	} {
		if got := imageName(tc.dir); got != tc.want {
			t.Errorf("imageName(%q) = %q, want %q", tc.dir, got, tc.want)
		}
	}
}

func TestLocalName(t *testing.T) {
	for _, tc := range []struct{ tag, want string }{
		{"myapp", "localhost/myapp"},
		{"myapp:1", "localhost/myapp:1"},
		{"team/myapp", "localhost/team/myapp"},
		{"localhost/myapp", "localhost/myapp"},
		{"127.0.0.1:5000/myapp", "127.0.0.1:5000/myapp"},
		{"registry.example/team/app:v2", "registry.example/team/app:v2"},
	} {
		if got := localName(tc.tag); got != tc.want {
			t.Errorf("localName(%q) = %q, want %q", tc.tag, got, tc.want)
		}
	}
}

func TestChooseCompression(t *testing.T) {
	for _, tc := range []struct {
		flag   string
		daemon bool
		want   string
	}{
		{"", false, "zstd"},
		{"", true, "gzip"},
		{"zstd", true, "zstd"},
		{"gzip", false, "gzip"},
	} {
		got, err := chooseCompression(tc.flag, tc.daemon)
		if err != nil || string(got) != tc.want {
			t.Errorf("chooseCompression(%q, %v) = %q, %v; want %q", tc.flag, tc.daemon, got, err, tc.want)
		}
	}
	if _, err := chooseCompression("lz4", false); err == nil {
		t.Error("lz4: want an error")
	}
}
