'use strict';
const fs = require('fs');
const http = require('http');
http.createServer((req, res) => {
  try {
    res.end(fs.readFileSync(__dirname + '/generated/page.txt'));
  } catch (e) {
    res.statusCode = 500;
    res.end('prestart did not run: ' + e.code + '\n');
  }
}).listen(Number(process.env.PORT) || 8080);
