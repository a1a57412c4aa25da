'use strict';
const http = require('node:http');
const addon = require('./build/Release/hello.node');

const port = Number(process.env.PORT) || 8080;
http
  .createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(`hello from distill/node ${addon.hello()}\n`);
  })
  .listen(port, () => console.log(`listening on :${port}`));
