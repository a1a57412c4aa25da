'use strict';
const http = require('node:http');

const port = Number(process.env.PORT) || 8080;
http
  .createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(`${process.env.GREETING || 'no greeting'} (NODE_ENV=${process.env.NODE_ENV})\n`);
  })
  .listen(port, () => console.log(`listening on :${port}`));
