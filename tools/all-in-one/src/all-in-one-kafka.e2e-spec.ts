import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { randomInt } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { KeyManagementLifecycle } from '@rampart/contracts';
import { freePort } from '@rampart/testing';
import { describeWithKafka } from '@rampart/testing/jest';
import { startAllInOne, type AllInOne } from './all-in-one.js';
import { TEST_RATE_LIMITS } from './testing/test-rate-limits.js';

/** The same platform with KAFKA_BROKERS set: every data service publishes through Kafka. */
describeWithKafka('all-in-one platform on Kafka', (brokers) => {
  let platform: AllInOne;
  let gatewayPort: number;

  beforeAll(async () => {
    gatewayPort = 22_000 + randomInt(0, 400) * 10;
    platform = await startAllInOne({
      ...TEST_RATE_LIMITS,
      RAMPART_HOME: await mkdtemp(join(tmpdir(), 'rampart-home-kafka-')),
      RAMPART_PORT: String(gatewayPort),
      RAMPART_POSTGRES_PORT: String(await freePort()),
      LOG_LEVEL: 'silent',
      KAFKA_BROKERS: brokers,
    });
  }, 120_000);

  afterAll(async () => {
    await platform?.stop();
  });

  it('reports Kafka readiness for every service', async () => {
    const response = await fetch(`http://127.0.0.1:${gatewayPort}/readyz`);
    expect(response.status).toBe(200);
    for (const service of platform.services.filter((candidate) => candidate.name !== 'gateway')) {
      expect(service.messaging?.transport.kind).toBe('kafka');
    }
  });

  it('publishes each start announcement to its Kafka topic as a valid CloudEvent', async () => {
    const kafka = new Kafka({
      clientId: 'rampart-e2e',
      brokers: brokers.split(','),
      logLevel: logLevel.NOTHING,
    });
    const consumer = kafka.consumer({ groupId: `e2e-${randomInt(0, 1e9)}` });
    const seen: { type: string; source: string; subject: string }[] = [];
    await consumer.connect();
    await consumer.subscribe({ topics: [KeyManagementLifecycle.topic.name], fromBeginning: true });
    await consumer.run({
      eachMessage: ({ message }) => {
        seen.push(JSON.parse(message.value?.toString() ?? '{}') as (typeof seen)[number]);
        return Promise.resolve();
      },
    });
    const deadline = Date.now() + 30_000;
    while (seen.length === 0 && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 100));
    await consumer.disconnect();
    expect(seen[0]).toMatchObject({
      type: KeyManagementLifecycle.started.type,
      source: '/rampart/key-management',
      subject: 'key-management',
    });
  });
});
