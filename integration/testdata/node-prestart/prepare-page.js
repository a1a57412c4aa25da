'use strict';
// Runs before start (npm's prestart hook): writes the page the server answers with.
const fs = require('fs');
const path = require('path');
fs.mkdirSync(path.join(__dirname, 'generated'), { recursive: true });
fs.writeFileSync(path.join(__dirname, 'generated', 'page.txt'),
  'prestart OK (' + process.env.npm_lifecycle_event + ' of ' + process.env.npm_package_name + ')\n');
