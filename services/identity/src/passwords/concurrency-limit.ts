import { RampartError } from '@rampart/platform';

/**
 * At most `limit` tasks run at once; up to `maxQueue` more wait, first come first served. Argon2
 * is CPU and memory bound: running more hashes than cores only makes each one slower and uses
 * 19 MiB apiece, and it would also occupy all of libuv's pool threads that file and DNS work
 * need. A full queue is refused (503) rather than letting logins wait for minutes.
 */
export class ConcurrencyLimit {
  #running = 0;
  #peak = 0;
  readonly #waiting: (() => void)[] = [];

  constructor(
    readonly limit: number,
    readonly maxQueue: number,
  ) {}

  get inFlight(): number {
    return this.#running;
  }

  get queued(): number {
    return this.#waiting.length;
  }

  /** The most tasks ever running at once. */
  get peakInFlight(): number {
    return this.#peak;
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.#running >= this.limit) {
      if (this.#waiting.length >= this.maxQueue) {
        throw new RampartError(
          'service-unavailable',
          'Too many password checks in progress',
          {},
          {
            headers: { 'retry-after': '1' },
          },
        );
      }
      // The finishing task hands its slot over directly, so #running never dips and refills.
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    } else {
      this.#running += 1;
    }
    this.#peak = Math.max(this.#peak, this.#running);
    try {
      return await task();
    } finally {
      const next = this.#waiting.shift();
      if (next) next();
      else this.#running -= 1;
    }
  }
}
