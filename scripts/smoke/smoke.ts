// Compiled with tsc --strict against the types the package ships.
import tasklets, { run, type TaskPromise } from 'tasklets';

const sum: TaskPromise<number> = run((a: number, b: number) => a + b, { args: [2, 3] });
// @ts-expect-error a number is not a task: the shipped types must say so
run(42);
const squares: Promise<number[]> = tasklets.map((x: number) => x * x, [1, 2, 3], { chunkSize: 2 });

export async function main(): Promise<number> {
  const [s, q] = await Promise.all([sum, squares]);
  return s + q.length;
}
