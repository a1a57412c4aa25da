// Command probe reports what a sandboxed process sees: its ids, a file from a
// mount, and exits with the code it is asked for.
package main

import (
	"fmt"
	"os"
	"strconv"
)

func main() {
	fmt.Printf("uid=%d gid=%d cwd=%s home=%s\n", os.Getuid(), os.Getgid(), must(os.Getwd()), os.Getenv("HOME"))
	if b, err := os.ReadFile("/data/in.txt"); err == nil {
		fmt.Printf("in=%s\n", b)
	}
	if err := os.WriteFile("/data/out.txt", []byte("written"), 0o644); err != nil {
		fmt.Println("write:", err)
	}
	if err := os.MkdirAll(os.Getenv("HOME")+"/.cache/tool", 0o755); err != nil {
		fmt.Println("home:", err)
	}
	if err := os.WriteFile("/etc/evil", []byte("x"), 0o644); err == nil {
		fmt.Println("rootfs is writable")
	}
	code, _ := strconv.Atoi(os.Getenv("EXIT"))
	os.Exit(code)
}

func must(s string, err error) string {
	if err != nil {
		return err.Error()
	}
	return s
}
