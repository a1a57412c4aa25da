'use strict';
const http = require('http');
const ms = require('ms');
// npm_config_user_agent is set by the package manager at install time only; the lock file used is
// visible in the build log. The answer names the package installed.
http.createServer((req, res) => {
  res.end('two locks OK (ms ' + require('ms/package.json').version + ', ' + ms(60000) + ')\n');
}).listen(Number(process.env.PORT) || 8080);
