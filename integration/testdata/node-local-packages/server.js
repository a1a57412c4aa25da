'use strict';
const http = require('http');
const greet = require('greet');
const shout = require('@fx/shout');
http.createServer((req, res) => {
  res.end(`local packages OK: ${greet('file:')} ${shout('workspace')}\n`);
}).listen(Number(process.env.PORT) || 8080);
