const fs = require("fs");
const http = require("http");
const format = require("@fx/format");
const port = process.env.PORT || 8080;
const built = fs.existsSync(__dirname + "/built.txt") ? "build output present" : "build output MISSING";
http.createServer((req, res) => {
  res.end(format("pnpm workspaces api") + " cwd=" + process.cwd() + ", " + built + "\n");
}).listen(port, () => console.log("listening on " + port));
