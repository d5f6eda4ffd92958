// ESM entry point: the CommonJS module's API under the same names.
import tasklets from './index.js';

export const {
  Tasklets, config, getConfig, run, runAll, map, batch, retry, cancel, getStats, getHealth, shutdown, terminate, AbortError,
  getTimeline, metrics, metricsHandler, registerMetrics, instrumentOpenTelemetry, tracingChannelName,
  dashboard, dashboardHandler,
} = tasklets;
export const taskModule = tasklets.module;
export default tasklets;
