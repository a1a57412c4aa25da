// Command health-check is the checker the distill/health-check buildpack puts
// in images: it GETs http://127.0.0.1:$PORT$HEALTHCHECK_PATH (PORT default
// 8080, path default "/") over HTTP/1.0 and exits 0 when the status is
// 200-399, 1 otherwise (refused, 5 s timeout, another status), with the
// reason on stderr. It uses the syscall package only, not os or net/http,
// which keeps the static binary near 1.3 MB.
package main

import (
	"strconv"
	"syscall"
)

func main() {
	port, path := target()
	status, err := get(port, path)
	if err != nil {
		fail("health-check: GET http://127.0.0.1:" + strconv.Itoa(port) + path + ": " + err.Error())
	}
	if !healthy(status) {
		fail("health-check: GET http://127.0.0.1:" + strconv.Itoa(port) + path + ": status " + strconv.Itoa(status))
	}
}

// target reads PORT and HEALTHCHECK_PATH.
func target() (int, string) {
	port := 8080
	if v, ok := syscall.Getenv("PORT"); ok {
		if p, err := strconv.Atoi(v); err == nil && p > 0 && p < 65536 {
			port = p
		}
	}
	path, _ := syscall.Getenv("HEALTHCHECK_PATH")
	if path == "" || path[0] != '/' {
		path = "/" + path
	}
	return port, path
}

func healthy(status int) bool { return status >= 200 && status <= 399 }

// get sends one GET to 127.0.0.1:port and returns the status code.
func get(port int, path string) (int, error) {
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return 0, err
	}
	defer syscall.Close(fd)
	tv := syscall.Timeval{Sec: 5}
	if err := syscall.SetsockoptTimeval(fd, syscall.SOL_SOCKET, syscall.SO_RCVTIMEO, &tv); err != nil {
		return 0, err
	}
	if err := syscall.SetsockoptTimeval(fd, syscall.SOL_SOCKET, syscall.SO_SNDTIMEO, &tv); err != nil {
		return 0, err
	}
	if err := syscall.Connect(fd, &syscall.SockaddrInet4{Port: port, Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		return 0, err
	}
	req := "GET " + path + " HTTP/1.0\r\nHost: 127.0.0.1:" + strconv.Itoa(port) + "\r\nUser-Agent: distill-health-check\r\n\r\n"
	if _, err := syscall.Write(fd, []byte(req)); err != nil {
		return 0, err
	}
	var buf [64]byte
	n := 0
	for n < 12 {
		m, err := syscall.Read(fd, buf[n:])
		if err != nil {
			return 0, err
		}
		if m == 0 {
			break
		}
		n += m
	}
	return statusCode(buf[:n])
}

// statusCode reads the status of an HTTP/1.x status line ("HTTP/1.1 204 ...").
func statusCode(line []byte) (int, error) {
	if len(line) < 12 || string(line[:5]) != "HTTP/" || line[8] != ' ' {
		return 0, syscall.EPROTO
	}
	return strconv.Atoi(string(line[9:12]))
}

func fail(msg string) {
	syscall.Write(2, []byte(msg+"\n"))
	syscall.Exit(1)
}
