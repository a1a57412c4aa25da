"""A standard-library HTTP server whose answer shows what its Procfile line set up."""
import http.server
import os
import sys


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = "%s; MODE=%s; cwd=%s; args=%s\n" % (
            os.environ.get("GREETING"), os.environ.get("MODE"),
            os.path.basename(os.getcwd()), " ".join(sys.argv[1:]))
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.end_headers()
        self.wfile.write(body.encode())


if __name__ == "__main__":
    port = int(sys.argv[sys.argv.index("--port") + 1])
    http.server.ThreadingHTTPServer(("", port), Handler).serve_forever()
