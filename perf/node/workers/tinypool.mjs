// tinypool's worker file (tinypool is ESM-only): named exports, chosen with
// run(arg, { name }).
import Tinypool from 'tinypool';
import tasks from '../tasks.js';

export const { inc, spin, echoBytes, hashBody } = tasks;
export const echoBytesMoved = (bytes) => Tinypool.move(tasks.echoBytes(bytes));
