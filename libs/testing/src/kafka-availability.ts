import { describe } from '@jest/globals';

/** The run's Kafka brokers, or undefined when none could be started (never in CI). */
export function testKafkaBrokers(): string | undefined {
  return process.env['RAMPART_TEST_KAFKA_BROKERS'];
}

/**
 * `describe` for suites that need a real broker. Without one (outside CI only: CI fails in the
 * global setup instead) the suite is reported as skipped with the reason in its name.
 */
export function describeWithKafka(name: string, suite: (brokers: string) => void): void {
  const brokers = testKafkaBrokers();
  if (brokers) {
    describe(name, () => suite(brokers));
  } else {
    const reason = process.env['RAMPART_TEST_KAFKA_UNAVAILABLE'] ?? 'no broker';
    describe.skip(`${name} [skipped: no Kafka broker: ${reason}]`, () => suite(''));
  }
}
