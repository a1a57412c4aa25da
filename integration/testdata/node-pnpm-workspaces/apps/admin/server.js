const http = require("http");
const leftPad = require("left-pad");
const port = process.env.PORT || 8080;
http.createServer((req, res) => {
  res.end("pnpm workspaces admin OK (" + leftPad("7", 3, "0") + ")\n");
}).listen(port);
