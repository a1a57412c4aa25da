const fs = require("fs");
const http = require("http");
const ms = require("ms");
const port = process.env.PORT || 8080;
const built = fs.existsSync(__dirname + "/public/client.min.js") ? "build output present" : "build output MISSING";
http.createServer((req, res) => {
  res.end(`yarn 3 node-modules OK: ms resolved (${ms("1m")}), ${built}\n`);
}).listen(port);
