import { Registry, collectDefaultMetrics } from 'prom-client';

let processRegistry: Registry | undefined;

/**
 * prom-client's process and Node.js metrics (CPU, memory, event-loop lag, GC, open file
 * descriptors): one registry per process, made on first use, since collecting them starts
 * monitors that run as long as the process.
 */
function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

/** A registry for one component's metrics (the replica's); scrape it with `scrape`. */
export function createMetricsRegistry(): Registry {
  return new Registry();
}

/** The Prometheus text of a component's metrics and the process's, as /metrics serves it. */
export function scrape(registry: Registry): Promise<string> {
  return Registry.merge([processMetrics(), registry]).metrics();
}

export type { Registry };
