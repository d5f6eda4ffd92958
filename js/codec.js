'use strict';
// Values crossing threads (addon/protocol.md, "Values on the wire").
//
// Payload kinds: 1 = primitives (plain values, the addon encodes them),
// 2 = bytes of v8.serialize (structured clone), 3 = a serialized task error.
//
// The cloning rule, checked before serializing so that nothing is silently
// changed on the way:
//  * functions and symbols cannot be cloned;
//  * instances of built-in classes that structured clone does not support
//    (Promise, WeakMap, MessagePort, ...) cannot be cloned;
//  * an instance of a user class whose prototype chain defines methods or
//    accessors would arrive as a plain object without them: rejected;
//  * an instance of a class without methods arrives as a plain object with
//    its own enumerable properties (that is all it had).
// Used on both sides: by the main thread for arguments, by executors for
// results.

const v8 = require('node:v8');
const { types } = require('node:util');
const errors = require('./errors');
const { ResultKind } = require('./protocol');

function isPrimitive(value) {
  const t = typeof value;
  return t === 'number' || t === 'string' || t === 'boolean' || t === 'undefined' || t === 'bigint' || value === null;
}

function allPrimitive(list) {
  for (let i = 0; i < list.length; i++) if (!isPrimitive(list[i])) return false;
  return true;
}

// Prototypes whose instances structured clone copies as they are.
const LEAF_PROTOS = new Set([
  Date.prototype, RegExp.prototype, ArrayBuffer.prototype, DataView.prototype,
  Boolean.prototype, Number.prototype, String.prototype, BigInt.prototype,
]);
if (typeof SharedArrayBuffer === 'function') LEAF_PROTOS.add(SharedArrayBuffer.prototype);

function isNativeFunction(fn) {
  try {
    return typeof fn === 'function' && /\{\s*\[native code\]\s*\}\s*$/.test(Function.prototype.toString.call(fn));
  } catch {
    return false;
  }
}

function className(value) {
  const ctor = value.constructor;
  return typeof ctor === 'function' && ctor.name ? ctor.name : 'an object without a constructor name';
}

// Methods and accessors that cloning would drop, found on the user-defined
// part of the prototype chain (it stops at the first built-in prototype).
// Empty when those prototypes carry only `constructor`.
function lostMembers(proto) {
  const lost = [];
  for (let p = proto; p !== null && !isNativeFunction(p.constructor); p = Object.getPrototypeOf(p)) {
    for (const key of Reflect.ownKeys(p)) if (key !== 'constructor') lost.push(String(key));
  }
  return lost;
}

// Why `value` (or something inside it) cannot be cloned, as { path, reason },
// or null when it can. `path` is extended with keys as the walk descends.
function findUncloneable(value, path, seen) {
  const t = typeof value;
  if (t === 'function') return { path, reason: `functions cannot be sent between threads (${value.name || 'anonymous function'})` };
  if (t === 'symbol') return { path, reason: `symbols cannot be sent between threads (${String(value)})` };
  if (t !== 'object' || value === null) return null;
  if (seen.has(value)) return null;
  seen.add(value);

  if (ArrayBuffer.isView(value) || value instanceof Error) return null;
  const proto = Object.getPrototypeOf(value);
  if (LEAF_PROTOS.has(proto)) return null;
  if (proto === Map.prototype) return walkMap(value, path, seen);
  if (proto === Set.prototype) return walkSet(value, path, seen);
  if (proto === Array.prototype) return walkArray(value, path, seen);
  if (proto !== Object.prototype && proto !== null) {
    const ctor = proto.constructor;
    if (isNativeFunction(ctor)) {
      return { path, reason: `${className(value)} objects cannot be cloned` };
    }
    const lost = lostMembers(proto);
    if (lost.length > 0) {
      const shown = lost.slice(0, 3).join(', ') + (lost.length > 3 ? ', ...' : '');
      return { path, reason: `an instance of ${className(value)} would lose its methods (${shown}); pass a plain object` };
    }
  }
  return walkObject(value, path, seen);
}

function walkObject(object, path, seen) {
  for (const key of Object.keys(object)) {
    const bad = findUncloneable(object[key], `${path}.${key}`, seen);
    if (bad !== null) return bad;
  }
  return null;
}

// Index loop for ordinary arrays; key iteration when the array is huge and
// may be sparse (a hole-filled array of length 2**32-1 must not be walked).
function walkArray(array, path, seen) {
  if (array.length > 1 << 20) return walkObject(array, path, seen);
  for (let i = 0; i < array.length; i++) {
    const item = array[i];
    if (item !== null && (typeof item === 'object' || typeof item === 'function' || typeof item === 'symbol')) {
      const bad = findUncloneable(item, `${path}[${i}]`, seen);
      if (bad !== null) return bad;
    }
  }
  return null;
}

function walkMap(map, path, seen) {
  for (const [k, v] of map) {
    const bad = findUncloneable(k, `${path}<key>`, seen) || findUncloneable(v, `${path}.get(${typeof k === 'string' ? JSON.stringify(k) : '...'})`, seen);
    if (bad !== null) return bad;
  }
  return null;
}

function walkSet(set, path, seen) {
  for (const v of set) {
    const bad = findUncloneable(v, `${path}<item>`, seen);
    if (bad !== null) return bad;
  }
  return null;
}

function checkCloneable(value, path) {
  if (value === null || (typeof value !== 'object' && typeof value !== 'function' && typeof value !== 'symbol')) return null;
  return findUncloneable(value, path, new Set());
}

// v8.deserialize leaves typed arrays, DataViews and Buffers as views into the
// payload's own bytes (so `view.buffer` would hold the rest of the payload,
// and keep all of it alive). Each one gets its own exactly-sized buffer here.
function ownBuffer(view) {
  if (view.byteOffset === 0 && view.byteLength === view.buffer.byteLength) return view;
  if (Buffer.isBuffer(view)) {
    const copy = Buffer.allocUnsafeSlow(view.length);
    copy.set(view);
    return copy;
  }
  if (view instanceof DataView) {
    return new DataView(view.buffer.slice(view.byteOffset, view.byteOffset + view.byteLength));
  }
  return view.slice();
}

class Deserializer extends v8.DefaultDeserializer {
  _readHostObject() {
    const value = super._readHostObject();
    return ArrayBuffer.isView(value) ? ownBuffer(value) : value;
  }
}

// The inverse of v8.serialize, with views that own their buffers.
function deserialize(bytes) {
  const deserializer = new Deserializer(bytes);
  deserializer.readHeader();
  return deserializer.readValue();
}

// Serializes `value`, or returns { path, reason } when it cannot be cloned.
function trySerialize(value, path) {
  const bad = checkCloneable(value, path);
  if (bad !== null) return bad;
  try {
    return v8.serialize(value);
  } catch (err) {
    return { path, reason: String(err && err.message) };
  }
}

// Arguments of one task that are not all primitives -> the bytes of
// v8.serialize(args); throws ERR_TASK_ARG_NOT_CLONEABLE naming the argument
// (`label` is the path of the args array, e.g. "args" or "tasks[3].args").
function serializeArgs(args, label) {
  for (let i = 0; i < args.length; i++) {
    const bad = checkCloneable(args[i], `${label}[${i}]`);
    if (bad !== null) throw errors.argNotCloneable(bad.path, bad.reason);
  }
  try {
    return v8.serialize(args);
  } catch (err) {
    throw errors.argNotCloneable(culpritIndex(args, label), String(err && err.message));
  }
}

// Arguments with ArrayBuffers to move instead of copy: written by a plain
// v8.Serializer, which refers to each listed buffer by its index (the addon
// moves the buffers' memory to the executor, which hands them back to the
// Deserializer: transferArgs / deserializeTransferred). Typed arrays over a
// transferred buffer arrive as views of the moved buffer (a Buffer as a
// Uint8Array).
function serializeTransfer(args, transfer, label) {
  if (!Array.isArray(transfer)) throw errors.optionType(`${label}.transfer`, 'an array of ArrayBuffers', transfer);
  const seen = new Set();
  for (let i = 0; i < transfer.length; i++) {
    const ab = transfer[i];
    if (!types.isArrayBuffer(ab)) throw errors.optionType(`${label}.transfer[${i}]`, 'an ArrayBuffer', ab);
    if (seen.has(ab)) throw errors.optionConflict(`The ArrayBuffer at ${label}.transfer[${i}] is listed more than once`);
    seen.add(ab);
  }
  for (let i = 0; i < args.length; i++) {
    const bad = checkCloneable(args[i], `${label}.args[${i}]`);
    if (bad !== null) throw errors.argNotCloneable(bad.path, bad.reason);
  }
  try {
    const serializer = new v8.Serializer();
    serializer.writeHeader();
    transfer.forEach((ab, i) => serializer.transferArrayBuffer(i, ab));
    serializer.writeValue(args);
    return serializer.releaseBuffer();
  } catch (err) {
    throw errors.argNotCloneable(`${label}.args`, String(err && err.message));
  }
}

// The executor's side of serializeTransfer.
function deserializeTransferred(bytes, buffers) {
  const deserializer = new v8.Deserializer(bytes);
  deserializer.readHeader();
  buffers.forEach((ab, i) => deserializer.transferArrayBuffer(i, ab));
  return deserializer.readValue();
}

// Cold path: the argument that made v8.serialize throw.
function culpritIndex(args, label) {
  for (let i = 0; i < args.length; i++) {
    try {
      v8.serialize(args[i]);
    } catch {
      return `${label}[${i}]`;
    }
  }
  return label;
}

// A task's result -> the value invoke returns; its kind goes to out[0].
// Never throws: a result that cannot be cloned becomes an error payload made
// by `encodeError` (task-errors.js, passed in to keep this file free of it).
function encodeResult(value, out, encodeError) {
  if (isPrimitive(value)) {
    out[0] = ResultKind.PRIMITIVE;
    return value;
  }
  const bytes = trySerialize(value, 'result');
  if (Buffer.isBuffer(bytes)) {
    out[0] = ResultKind.SERIALIZED;
    return bytes;
  }
  out[0] = ResultKind.ERROR;
  return encodeError(errors.resultNotCloneable(bytes.path, bytes.reason));
}

module.exports = {
  isPrimitive,
  allPrimitive,
  checkCloneable,
  trySerialize,
  serializeArgs,
  serializeTransfer,
  deserializeTransferred,
  encodeResult,
  deserialize,
};
