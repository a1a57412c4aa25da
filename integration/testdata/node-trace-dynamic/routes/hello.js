'use strict';
module.exports = (req, res) => res.type('text').send('hello route\n');
