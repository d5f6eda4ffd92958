// Type tests for js/index.d.ts: this file must compile with `tsc --noEmit`
// (tests/js/types.test.js), and every `@ts-expect-error` line must be an error.
import tasklets, { Tasklets, run, runAll, map, config, getStats, shutdown } from '../../js/index.js';

async function main(): Promise<void> {
  config({ workers: { min: 2, max: 'cpu_count * 2', scaling: 'adaptive' }, placement: 'numa' });
  config({ workers: 4 });
  config({ workers: 'auto' });

  const sum: number = await run((a: number, b: number) => a + b, { args: [2, 3] });
  const text: string = await run(async (s: string) => s.toUpperCase(), { args: ['x'], priority: 'high' });
  const id: number | undefined = run(() => 1).taskId;
  const moved = new ArrayBuffer(8);
  await run((u: Uint8Array) => u[0], { args: [new Uint8Array(moved)], transfer: [moved] });

  const all = await runAll([() => 1, { task: (x: number) => x * 2, args: [21] }]);
  const squares: number[] = await map((x: number) => x * x, [1, 2, 3], { chunkSize: 2 });

  const pool = new Tasklets({ workers: 2, placement: 'compact' });
  const stats = pool.getStats();
  const replaced: number = stats.replacedWorkers;
  const p50: number = getStats().queueWait.p50;
  await pool.shutdown({ mode: 'cancel', timeout: 1000 });
  await shutdown();
  void tasklets.run;
  void [sum, text, id, all, squares, replaced, p50];

  // @ts-expect-error: fn must be a function
  run(42);
  // @ts-expect-error: args must match the function's parameters
  run((a: number) => a, { args: ['not a number'] });
  // @ts-expect-error: unknown priority
  run(() => 1, { priority: 'urgent' });
  // @ts-expect-error: transfer takes ArrayBuffers
  run(() => 1, { transfer: ['not a buffer'] });
  // @ts-expect-error: scaling is 'fixed' or 'adaptive'
  config({ workers: { min: 1, max: 2, scaling: 'elastic' } });
  // @ts-expect-error: unknown shutdown mode
  shutdown({ mode: 'now' });
}

void main;
