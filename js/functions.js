'use strict';
// Task functions travel as source text, registered once per pool under an id
// (addon registerFunction) and compiled once per executor.
//
// Accepted: arrow functions, function expressions and declarations, async
// and generator functions, and method shorthands (`foo(x) { ... }`,
// `async foo() {}`, static class methods), which are wrapped into an object
// literal to become an expression. Rejected: classes, bound and native
// functions (no source to send).
//
// The source is turned into one *expression* here, on the main thread, and
// checked by parsing it (`new Function` parses without running anything), so
// that an executor only ever compiles expressions that are known to parse.

const errors = require('./errors');

function parses(body) {
  try {
    // eslint-disable-next-line no-new-func
    new Function(body);
    return true;
  } catch {
    return false;
  }
}

// fn -> an expression whose value is an equivalent function. The newline
// before the closing parenthesis ends a trailing `// comment`.
function toExpression(fn) {
  const source = Function.prototype.toString.call(fn);
  if (/\{\s*\[native code\]\s*\}\s*$/.test(source)) {
    throw errors.argValue('fn', 'a function written in JavaScript (bound and native functions have no source to send)', fn);
  }
  if (/^class\b/.test(source)) {
    throw errors.argValue('fn', 'a function, not a class', fn);
  }
  const direct = `(${source}\n)`;
  if (parses(`return ${direct}`)) return direct;
  const method = `Object.values({ ${source}\n })[0]`;
  if (parses(`return ${method}`)) return method;
  throw errors.argValue('fn', 'a function whose source can be compiled on its own', fn);
}

// The expression of the function a map() chunk runs: it applies the user's
// function to each item of the chunk (with the item's index in the whole
// input) and awaits the results when any of them is a promise.
function mapChunkExpression(userExpression) {
  return `((fn) => function taskletsMapChunk(chunk, start) {
  const out = new Array(chunk.length);
  let async = false;
  for (let i = 0; i < chunk.length; i++) {
    const r = fn(chunk[i], start + i);
    if (r !== null && typeof r === 'object' && typeof r.then === 'function') async = true;
    out[i] = r;
  }
  return async ? Promise.all(out) : out;
})(${userExpression})`;
}

// Per pool: function object / source -> fnId, so a function is registered
// (and sent, and compiled) once.
class FunctionRegistry {
  constructor(register) {
    this.register = register;   // (expression) -> fnId
    this.byFunction = new WeakMap();
    this.byMapFunction = new WeakMap();
    this.byExpression = new Map();
    // Source text -> id: a fresh closure per task (`items.map(i => ({ task:
    // x => x + 1 }))`) is a new object each time but the same source, and
    // parsing it again per task would cost more than running it.
    this.bySource = new Map();
    this.lastFunction = undefined;
    this.lastId = 0;
  }

  idOf(fn) {
    // The same function object as last time (a loop of run() calls, or
    // runAll over one function) costs one comparison.
    if (fn === this.lastFunction) return this.lastId;
    let id = this.byFunction.get(fn);
    if (id === undefined) {
      const source = Function.prototype.toString.call(fn);
      id = this.bySource.get(source);
      if (id === undefined) {
        id = this.idOfExpression(toExpression(fn));
        this.bySource.set(source, id);
        // Only the first object of each source goes into the WeakMap: a
        // fresh closure per task would otherwise grow (and rehash) it on
        // every call, which costs more than looking the source up.
        this.byFunction.set(fn, id);
      }
    }
    this.lastFunction = fn;
    this.lastId = id;
    return id;
  }

  idOfMap(fn) {
    let id = this.byMapFunction.get(fn);
    if (id === undefined) {
      id = this.idOfExpression(mapChunkExpression(toExpression(fn)));
      this.byMapFunction.set(fn, id);
    }
    return id;
  }

  idOfExpression(expression) {
    let id = this.byExpression.get(expression);
    if (id === undefined) {
      id = this.register(expression);
      this.byExpression.set(expression, id);
    }
    return id;
  }
}

// Executor side: expression -> the function (throws what compiling throws).
function compile(expression) {
  // eslint-disable-next-line no-new-func
  return new Function(`return ${expression}`)();
}

module.exports = { toExpression, mapChunkExpression, FunctionRegistry, compile };
