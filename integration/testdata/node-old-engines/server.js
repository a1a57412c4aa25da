'use strict';
var express = require('express');
var app = express();
app.get('/', function (req, res) {
  res.type('text').send('old engines OK on node ' + process.version + '\n');
});
app.listen(Number(process.env.PORT) || 8080);
