import type { Logger } from 'pino';

export interface MaintenanceSchedule {
  /** Stops scheduling; a pass under way stops after its current repository. */
  stop(): void;
}

export interface ScheduleDeps {
  intervalMs: number;
  logger: Logger;
  listRepositories(): Promise<string[]>;
  maintain(repo: string): Promise<unknown>;
}

/**
 * Runs housekeeping on every repository once per interval, one repository at a time (each in
 * its own turn, between syncs), never two passes at once. The timer does not keep the process
 * alive.
 */
export function scheduleMaintenance(deps: ScheduleDeps): MaintenanceSchedule {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const pass = async (): Promise<void> => {
    let done = 0;
    let failed = 0;
    for (const repo of await deps.listRepositories().catch(() => [])) {
      if (stopped) return;
      try {
        await deps.maintain(repo);
        done += 1;
      } catch (err) {
        failed += 1;
        deps.logger.warn({ repo, err: (err as Error).message }, 'maintenance failed');
      }
    }
    deps.logger.info({ done, failed }, 'maintenance pass finished');
  };
  const arm = (): void => {
    if (stopped) return;
    timer = setTimeout(() => {
      void pass().finally(arm);
    }, deps.intervalMs);
    timer.unref();
  };
  arm();
  return {
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
  };
}
