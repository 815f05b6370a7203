import type { Logger } from '../log/index.js';

export interface MaintenanceSchedule {
  /** Stops scheduling and aborts the housekeeping under way (its git process is stopped). */
  stop(): void;
}

export interface ScheduleDeps {
  intervalMs: number;
  logger: Logger;
  listRepositories(): Promise<string[]>;
  maintain(repo: string, options: { signal: AbortSignal }): Promise<unknown>;
}

/**
 * Runs housekeeping on every repository once per interval, one repository at a time (each in
 * its own turn, between syncs), never two passes at once. The timer does not keep the process
 * alive. Started by the process that owns the fetcher (the replica's composition root), never by
 * the fetcher itself.
 */
export function scheduleMaintenance(deps: ScheduleDeps): MaintenanceSchedule {
  const stopping = new AbortController();
  const { signal } = stopping;
  let timer: NodeJS.Timeout | undefined;
  const pass = async (): Promise<void> => {
    let done = 0;
    let failed = 0;
    for (const repo of await deps.listRepositories().catch(() => [])) {
      if (signal.aborted) return;
      try {
        await deps.maintain(repo, { signal });
        done += 1;
      } catch (err) {
        if (signal.aborted) return;
        failed += 1;
        deps.logger.warn({ repo, err: (err as Error).message }, 'maintenance failed');
      }
    }
    deps.logger.info({ done, failed }, 'maintenance pass finished');
  };
  const arm = (): void => {
    if (signal.aborted) return;
    timer = setTimeout(() => {
      void pass().finally(arm);
    }, deps.intervalMs);
    timer.unref();
  };
  arm();
  return {
    stop() {
      stopping.abort();
      if (timer) clearTimeout(timer);
    },
  };
}
