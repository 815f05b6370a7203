import { checkReachable } from '../kafka/index.js';
import type { Logger } from '../log/index.js';

/** How often the brokers are probed, and how long one probe may take. */
const PROBE_EVERY_MS = 2000;
const PROBE_TIMEOUT_MS = 1500;

/**
 * Whether a broker of kafka.brokers answers now: a TCP connect to each in turn every 2 s, the
 * same check one-shot commands make first. kafkajs retries a lost broker quietly for a long time;
 * this is how /readyz learns within seconds that reads from this replica may be stale.
 */
export class BrokerProbe {
  private timer: NodeJS.Timeout | undefined;
  private up = true;
  private running: Promise<void> | undefined;

  constructor(private readonly deps: { brokers: readonly string[]; logger: Logger; everyMs?: number }) {}

  start(): void {
    const probe = () => {
      this.running = checkReachable(this.deps.brokers, PROBE_TIMEOUT_MS).then(
        () => {
          if (!this.up) this.deps.logger.info('Kafka answers again');
          this.up = true;
        },
        (err: unknown) => {
          if (this.up) this.deps.logger.warn({ err: (err as Error).message }, 'Kafka does not answer; /readyz says not ready until it does');
          this.up = false;
        },
      );
    };
    probe();
    this.timer = setInterval(probe, this.deps.everyMs ?? PROBE_EVERY_MS);
    this.timer.unref();
  }

  get reachable(): boolean {
    return this.up;
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }
}

/** Why a replica is not ready, or undefined when it is (what /readyz answers). */
export function notReadyBecause(s: { running: boolean; joined: boolean; crashed: boolean; brokers: boolean; worstLagMs: number; maxLagMs: number }): string | undefined {
  if (!s.running) return 'not running';
  if (!s.brokers) return 'Kafka does not answer';
  if (s.crashed) return 'the consumer crashed and has not rejoined its group';
  if (!s.joined) return 'the consumer is not in its group';
  if (s.maxLagMs > 0 && s.worstLagMs > s.maxLagMs) return `the worst lag (${s.worstLagMs} ms) is above http.readyMaxLagMs (${s.maxLagMs} ms)`;
  return undefined;
}
