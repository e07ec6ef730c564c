import { setTimeout as sleep } from 'node:timers/promises';

/** How a forwarder of the chain (the Kafka stream, a syslog receiver) paces its rounds. */
export interface ForwardingPace {
  /** Records per round: read and sent together, the most held in memory. */
  batchSize: number;
  /** Pause after a round that found the destination up to date. */
  idleMs?: number;
  /** Pause after the first failed round, doubled per further failure up to `maxBackoffMs`. */
  minBackoffMs?: number;
  maxBackoffMs?: number;
}

export interface ForwardingReports {
  /** A round failed: the next one comes after `retryInMs`. */
  failed(error: Error, failures: number, retryInMs: number): Promise<void> | void;
  /** A round succeeded after `failures` failed ones. */
  resumed(failures: number): void;
}

/**
 * Runs `round` (which answers how many records it forwarded) until `signal` aborts: at once
 * after a full batch, as the destination is behind; after `idleMs` once it caught up; after a
 * backoff doubling from `minBackoffMs` to `maxBackoffMs` while rounds fail.
 */
export async function forwardUntilStopped(
  round: () => Promise<number>,
  pace: Required<ForwardingPace>,
  signal: AbortSignal,
  reports: ForwardingReports,
): Promise<void> {
  let failures = 0;
  while (!signal.aborted) {
    let pause: number;
    try {
      const forwarded = await round();
      if (failures > 0) reports.resumed(failures);
      failures = 0;
      pause = forwarded === pace.batchSize ? 0 : pace.idleMs;
    } catch (error) {
      failures += 1;
      pause = Math.min(pace.maxBackoffMs, pace.minBackoffMs * 2 ** Math.min(failures - 1, 16));
      await reports.failed(error as Error, failures, pause);
    }
    await sleep(pause, undefined, { signal }).catch(() => undefined);
  }
}
