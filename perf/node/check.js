'use strict';
// Answers are checked: a library whose answers are wrong gets no figure.

class WrongAnswer extends Error {
  constructor(message) {
    super(`wrong answer: ${message}`);
    this.name = 'WrongAnswer';
  }
}

function expectEqual(actual, expected, what) {
  if (actual !== expected) {
    throw new WrongAnswer(`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
  }
}

// Results of inc over args: each must be its arg + 1.
function checkIncs(args, results) {
  expectEqual(Array.isArray(results) ? results.length : -1, args.length, 'number of results');
  for (let i = 0; i < args.length; i++) {
    if (results[i] !== args[i] + 1) expectEqual(results[i], args[i] + 1, `result ${i}`);
  }
}

// A result of echoBytes for a given input (its length and first/last bytes).
function checkEcho(result, length, first, last) {
  if (!(result instanceof Uint8Array)) throw new WrongAnswer(`expected a Uint8Array, got ${typeof result}`);
  expectEqual(result.length, length, 'result length');
  expectEqual(result[0], (first + 1) & 255, 'first byte');
  expectEqual(result[length - 1], length > 1 ? last : (first + 1) & 255, 'last byte');
}

module.exports = { WrongAnswer, expectEqual, checkIncs, checkEcho };
