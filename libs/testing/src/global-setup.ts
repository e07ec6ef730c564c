import { startTestKafka, type TestKafka } from './kafka.js';
import { startTestPostgres, type TestPostgres } from './postgres.js';

declare global {
  var rampartTestServers: { postgres: TestPostgres; kafka?: TestKafka } | undefined;
}

/**
 * Starts PostgreSQL and Kafka once per Jest run and hands their addresses to every test worker
 * through the environment (workers are forked after this runs).
 */
export default async function globalSetup(): Promise<void> {
  const started = Date.now();
  const [postgres, kafka] = await Promise.all([
    startTestPostgres(),
    startTestKafka().catch((error: unknown) => error as Error),
  ]);
  process.env['RAMPART_TEST_DATABASE_URL'] = postgres.adminUrl;
  if (kafka instanceof Error) {
    if (process.env['CI'] === 'true') {
      await postgres.stop();
      throw new Error(`CI needs a real Kafka broker and none could be started: ${kafka.message}`);
    }
    process.env['RAMPART_TEST_KAFKA_UNAVAILABLE'] =
      kafka.message.split('\n')[0] ?? 'unknown reason';
    globalThis.rampartTestServers = { postgres };
  } else {
    process.env['RAMPART_TEST_KAFKA_BROKERS'] = kafka.brokers;
    globalThis.rampartTestServers = { postgres, kafka };
  }
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  process.stdout.write(
    `\n[rampart] test servers up in ${seconds}s: postgres (${postgres.source})` +
      (kafka instanceof Error
        ? `, kafka UNAVAILABLE: ${kafka.message.split('\n')[0]}\n`
        : `, kafka (${kafka.source}) at ${kafka.brokers}\n`),
  );
}
