'use strict';
// piscina's worker file: named exports, chosen with run(arg, { name }).
const { move } = require('piscina');
const tasks = require('../tasks');

module.exports = {
  ...tasks,
  echoBytesMoved: (bytes) => move(tasks.echoBytes(bytes)),
};
