'use strict';
const camelCase = require('camelcase');
module.exports = (req, res) => res.type('text').send(camelCase('dynamic-route-answer') + '\n');
