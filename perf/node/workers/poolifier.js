'use strict';
// poolifier's worker file: a ThreadWorker with named task functions, chosen
// with execute(arg, name). Its results are always copied back.
const { ThreadWorker } = require('poolifier');
const tasks = require('../tasks');

module.exports = new ThreadWorker({ ...tasks });
