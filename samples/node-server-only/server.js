'use strict';
// No package.json: distill/node detects server.js and runs `node server.js`.
const http = require('node:http');

const port = Number(process.env.PORT) || 8080;
http
  .createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('hello from distill/node server-only\n');
  })
  .listen(port, () => console.log(`listening on :${port}`));
