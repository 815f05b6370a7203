import { Registry, collectDefaultMetrics } from 'prom-client';

/**
 * A Prometheus registry with prom-client's process and Node.js metrics (CPU, memory, event-loop
 * lag, GC, open file descriptors) beside pullrep's own. One per process; each component
 * registers its metrics on it.
 */
export function createMetricsRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return registry;
}

export type { Registry };
