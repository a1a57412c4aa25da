#!/usr/bin/env node
// The workspace package's own executable: a start script may run it by name ("start": "greet-serve").
const http = require("http");
const greet = require("./index.js");
http.createServer((req, res) => {
  res.end(greet("yarn 4 pnp bin") + "\n");
}).listen(process.env.PORT || 8080);
