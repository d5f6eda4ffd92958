// ESM entry point: the CommonJS module's API under the same names.
import tasklets from './index.js';

export const { Tasklets, config, getConfig, run, runAll, map, getStats, shutdown } = tasklets;
export default tasklets;
