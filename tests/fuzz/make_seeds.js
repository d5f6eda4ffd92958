'use strict';
// Writes the starting inputs of each fuzz target into <dir>/<target>/, made
// by the real encoder (js/pack.js) where the target reads its bytes, and
// the inputs of bugs found (regression-*). tests/fuzz/make_corpus.sh grows
// them with a short run of each target and keeps in tests/fuzz/corpus/
// what `-merge=1` finds to add coverage.
//   node tests/fuzz/make_seeds.js <dir>

const fs = require('node:fs');
const path = require('node:path');
const { Packer, packBatch, ARG_PRIMITIVES } = require('../../js/pack');

const out = process.argv[2];
if (!out) {
  console.error('usage: node tests/fuzz/make_seeds.js <dir>');
  process.exit(2);
}

const ARG_LISTS = [
  [],
  [1],
  [1, 2, 3],
  [-0, 0.5, NaN, Infinity, -Infinity, 2 ** 31, -(2 ** 31)],
  [undefined, null, true, false],
  ['', 'a', 'héllo', '😀', '\ud800', 'x'.repeat(40)],
  [0n, 1n, -1n, 2n ** 64n, -(2n ** 130n)],
  [1, 'two', 3n, null, undefined, true, 4.5],
];

function bytesOf(fill) {
  const p = new Packer();
  fill(p);
  return Buffer.from(p.bytes.subarray(0, p.size));
}

function write(target, name, bytes) {
  const dir = path.join(out, target);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, name), bytes);
}

ARG_LISTS.forEach((list, i) => {
  write('codec_args', `list-${i}`, bytesOf((p) => p.list(list)));
  list.forEach((v, k) => write('codec_result', `value-${i}-${k}`, Buffer.concat([Buffer.from([0]), bytesOf((p) => p.value(v))])));
});

// Inline scalars: flag byte 1, then a tag and a double.
for (const tag of [0, 1, 2, 3, 4, 5, 6, 7, 0xfe, 0xff]) {
  const b = Buffer.alloc(10);
  b[0] = 1;
  b[1] = tag;
  b.writeDoubleLE(Math.PI, 2);
  write('codec_result', `scalar-${tag}`, b);
}

// Packed batches as js/pack.js writes them: count, offsets, bytes.
const BATCHES = [[[1], [2, 3]], [[], ['abc'], [1n, null]], ARG_LISTS];
BATCHES.forEach((lists, i) => {
  const count = lists.length;
  const kinds = new Uint8Array(count).fill(ARG_PRIMITIVES);
  const { packed, offsets } = packBatch(new Packer(), count, kinds, lists.slice());
  const header = Buffer.alloc(1 + 4 * (count + 1));
  header[0] = count;
  offsets.forEach((o, k) => header.writeUInt32LE(o, 1 + 4 * k));
  write('packed_batch', `batch-${i}`, Buffer.concat([header, Buffer.from(packed)]));
});

// Transfer lists: one byte per listed value (bit 0 ArrayBuffer, bit 1 detachable, bit 2 detached).
[[3], [3, 3, 3], [3, 1], [3, 7], [0], []].forEach((list, i) => write('transfer_list', `list-${i}`, Buffer.from(list)));

// Topology strings: synthetic descriptions; a leading "!" makes the target use load() as is.
[
  'pack:2 numa:2 l3:1 core:4 pu:2', 'numa:1 core:2 pu:1', 'pu:3', '2 2 2', 'pack:2(memory=1GB) [numa] core:2 pu:2',
  'core:2 pu:2(indexes=0,2,1,3)', 'pack:x', '', '!system', '!synthetic:numa:2 core:1 pu:1', '!banana',
].forEach((text, i) => write('topology', `text-${i}`, Buffer.from(text)));

// Regressions. A BigInt whose word count (0xffffffff) is far beyond the
// payload: the reader allocated the words (32 GiB) before it found the
// payload truncated. A flat synthetic machine of 773,838 PUs: hwloc never
// finished loading it (src/topology.cpp now refuses more than 4,096 PUs, or
// levels of more than 256).
write('codec_args', 'regression-bigint-count', Buffer.from([1, 0, 0, 0, 6, 0, 0xff, 0xff, 0xff, 0xff]));
write('codec_result', 'regression-bigint-count', Buffer.from([0, 6, 1, 0xff, 0xff, 0xff, 0xff, 0]));
write('topology', 'regression-flat-773838', Buffer.from('773838'));
// The same behind a NUL, which hwloc stops at: found against the first fix.
write('topology', 'regression-nul', Buffer.from('777738\0MemTotal: 38', 'latin1'));
