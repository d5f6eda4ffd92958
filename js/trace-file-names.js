'use strict';
// The name a trace gives a task's run slice, from the expression its
// function was registered as (js/functions.js, js/module-allow.js): the
// function's name (its `name` property when the pool saw the function
// object, as `const double = (x) => 2 * x` has, else the name in its
// source), a module task's export and file, a map chunk's function; an
// anonymous function shows its source, shortened.

const path = require('node:path');
const { parseModuleTaskSource } = require('./module-allow');

const SOURCE_CHARS = 48;
const MAP_CHUNK = /^\(\(fn\) => function taskletsMapChunk\(/;
const MAP_CHUNK_END = '\n})(';
const DECLARED = /^(?:async\s+)?function\s*\*?\s*([\w$]+)\s*\(/;
const METHOD = /^(?:static\s+)?(?:async\s+)?\*?\s*([\w$]+)\s*\(/;

// expression -> a short readable name.
function nameOfExpression(expression) {
  const moduleTask = parseModuleTaskSource(expression);
  if (moduleTask !== null) return `${moduleTask.exportName} (${path.basename(moduleTask.file)})`;
  if (MAP_CHUNK.test(expression)) {
    const inner = expression.slice(expression.lastIndexOf(MAP_CHUNK_END) + MAP_CHUNK_END.length, -1);
    return `map: ${nameOfExpression(inner)}`;
  }
  let source = null;
  let pattern = DECLARED;
  if (expression.startsWith('(') && expression.endsWith('\n)')) {
    source = expression.slice(1, -2);
  } else if (expression.startsWith('Object.values({ ') && expression.endsWith('\n })[0]')) {
    source = expression.slice('Object.values({ '.length, -'\n })[0]'.length);
    pattern = METHOD;
  }
  if (source === null) return shorten(expression);
  const named = pattern.exec(source);
  return named !== null ? named[1] : shorten(source);
}

function shorten(source) {
  const flat = source.replace(/\s+/g, ' ').trim();
  return flat.length <= SOURCE_CHARS ? flat : `${flat.slice(0, SOURCE_CHARS - 3)}...`;
}

// What the pool knows of a function id ({ expression, name }, name '' when
// it never saw a named function object) -> the slice's name.
function nameOf(known) {
  if (known.name === '') return nameOfExpression(known.expression);
  return MAP_CHUNK.test(known.expression) ? `map: ${known.name}` : known.name;
}

// fnId -> name, remembered for the recording: `lookup(fnId)` gives what
// the pool knows (undefined once it forgot the function).
class FunctionNames {
  constructor(lookup) {
    this.lookup = lookup;
    this.names = new Map();
  }

  of(fnId) {
    let name = this.names.get(fnId);
    if (name === undefined) {
      const known = this.lookup(fnId);
      name = known === undefined ? `function ${fnId}` : nameOf(known);
      this.names.set(fnId, name);
    }
    return name;
  }
}

module.exports = { nameOfExpression, FunctionNames };
