'use strict';
const express = require('express');

const app = express();
const port = Number(process.env.PORT) || 8080;

app.get('/', (req, res) => res.type('text').send('hello from the traced express app\n'));

// Routes by name: nft reads './routes/' + name as a pattern and traces every file in routes/.
for (const name of ['hello', 'camel']) {
  app.get('/' + name, require('./routes/' + name));
}

// Plugins named at run time: nothing the trace can evaluate, so the app's dependencies stay whole.
const plugins = (process.env.PLUGINS || 'left-pad,ms').split(',');
app.get('/plugin/:name', (req, res) => {
  const name = req.params.name;
  if (!plugins.includes(name)) return res.status(404).type('text').send('no such plugin\n');
  const mod = require(name);
  res.type('text').send(`plugin ${name}: ${name === 'ms' ? mod(90000) : mod('x', 5, '.')}\n`);
});

app.listen(port, () => console.log(`listening on :${port}`));
