'use strict';
// Packs the primitive arguments of a whole batch into one buffer, in the
// addon's primitive encoding (addon/protocol.md, "Values on the wire"), so
// that submitting a batch costs the addon no N-API call per task: it copies
// each task's slice of bytes. Tasks whose arguments are not all primitives
// keep their serialized Buffer.

const errors = require('./errors');
const { ArgKind, Tag } = require('./protocol');

const MASK64 = (1n << 64n) - 1n;

class Packer {
  constructor() {
    this.bytes = new Uint8Array(4096);
    this.view = new DataView(this.bytes.buffer);
    this.size = 0;
  }

  reserve(n) {
    if (this.size + n <= this.bytes.length) return;
    let cap = this.bytes.length * 2;
    while (cap < this.size + n) cap *= 2;
    const bytes = new Uint8Array(cap);
    bytes.set(this.bytes.subarray(0, this.size));
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer);
  }

  u8(v) {
    this.reserve(1);
    this.bytes[this.size++] = v;
  }

  u32(v) {
    this.reserve(4);
    this.view.setUint32(this.size, v, true);
    this.size += 4;
  }

  number(v) {
    this.reserve(9);
    if ((v | 0) === v && !Object.is(v, -0)) {
      this.bytes[this.size] = Tag.INT32;
      this.view.setInt32(this.size + 1, v, true);
      this.size += 5;
    } else {
      this.bytes[this.size] = Tag.FLOAT64;
      this.view.setFloat64(this.size + 1, v, true);
      this.size += 9;
    }
  }

  string(v) {
    const n = v.length;
    this.reserve(5 + 2 * n);
    this.bytes[this.size] = Tag.STRING;
    this.view.setUint32(this.size + 1, n, true);
    let at = this.size + 5;
    // UTF-16 code units as they are: lone surrogates survive.
    for (let i = 0; i < n; i++, at += 2) this.view.setUint16(at, v.charCodeAt(i), true);
    this.size = at;
  }

  bigint(v) {
    const negative = v < 0n;
    let magnitude = negative ? -v : v;
    const words = [];
    do {
      words.push(magnitude & MASK64);
      magnitude >>= 64n;
    } while (magnitude > 0n);
    this.u8(Tag.BIGINT);
    this.u8(negative ? 1 : 0);
    this.u32(words.length);
    this.reserve(8 * words.length);
    for (const w of words) {
      this.view.setBigUint64(this.size, w, true);
      this.size += 8;
    }
  }

  value(v) {
    switch (typeof v) {
      case 'number': return this.number(v);
      case 'string': return this.string(v);
      case 'boolean': return this.u8(v ? Tag.TRUE : Tag.FALSE);
      case 'undefined': return this.u8(Tag.UNDEFINED);
      case 'bigint': return this.bigint(v);
      default:
        if (v === null) return this.u8(Tag.NULL);
        // Callers pack only arrays they found all-primitive; reading one
        // again can differ only through getters.
        throw errors.argNotCloneable('args', `it holds a ${typeof v} where a primitive was read a moment before (an element with a getter?)`);
    }
  }

  list(values) {
    this.u32(values.length);
    for (let i = 0; i < values.length; i++) this.value(values[i]);
  }
}

// One task's primitive arguments, appended to `packer`: its slice of the
// batch runs from the returned offset to the packer's size afterwards.
function packArgs(packer, args) {
  const at = packer.size;
  packer.list(args);
  return at;
}

// Rewrites the primitive tasks of a batch as packed ones, into `packer`
// (emptied first: the addon copies each slice during submit, so one packer
// serves every batch). Returns the bytes and, per task, where its slice
// starts (offsets[count] is the end).
function packBatch(packer, count, argKinds, args) {
  packer.size = 0;
  const offsets = new Uint32Array(count + 1);
  for (let i = 0; i < count; i++) {
    offsets[i] = packer.size;
    if (argKinds[i] === ArgKind.PRIMITIVES) {
      packer.list(args[i]);
      argKinds[i] = ArgKind.PACKED;
      args[i] = undefined;
    }
  }
  offsets[count] = packer.size;
  return { packed: packer.bytes.subarray(0, packer.size), offsets };
}

module.exports = { Packer, packBatch, packArgs };
