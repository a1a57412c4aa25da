'use strict';
const express = require('express');

const app = express();
const port = Number(process.env.PORT) || 8080;

app.get('/', (req, res) => {
  res.type('text').send(`hello from distill/node yarn berry (node ${process.version}, NODE_ENV=${process.env.NODE_ENV})\n`);
});

app.get('/dev-dependency', (req, res) => {
  try {
    require.resolve('chai');
    res.type('text').send('chai is installed\n');
  } catch {
    res.type('text').send('chai is absent\n');
  }
});

app.listen(port, () => console.log(`listening on :${port}`));
