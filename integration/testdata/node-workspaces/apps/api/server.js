const http = require("http");
const format = require("@fx/format");
const port = process.env.PORT || 8080;
http.createServer((req, res) => {
  res.end(format("npm workspaces api") + " cwd=" + process.cwd() + "\n");
}).listen(port, () => console.log("listening on " + port));
