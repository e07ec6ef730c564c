import { afterAll, beforeAll, expect, it } from '@jest/globals';
import type { RestartableKafka } from '@rampart/testing';
import { describeWithKafka } from '@rampart/testing/jest';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DataSource } from 'typeorm';
import {
  expectExactlyOnceAndVerified,
  openIngestRig,
  type IngestRig,
  produceLoginEvents,
  recordedCount,
  unpublishedCount,
  waitUntil,
} from '../testing/ingest-reliability.js';

const EVENTS = 2_000;
const PER_TRANSACTION = 100;

describeWithKafka('ingest: the Kafka broker restarted mid-stream', () => {
  let rig: IngestRig;
  let kafka: RestartableKafka;
  let producer: DataSource;

  beforeAll(async () => {
    // The rig's broker is this file's own: stopping the run's shared one would break other suites.
    rig = await openIngestRig();
    ({ kafka, producer } = rig);
    await rig.start();
  }, 60_000);

  afterAll(async () => {
    await rig?.close();
  });

  it('keeps producing and consuming through the restart: every event once, gapless, verified', async () => {
    const ids: string[] = [];
    // The producer never stops; the test only moves how far it may go, so that a third of the
    // events is produced before the broker goes, a third while it is away, a third after.
    let allowed = EVENTS / 3;
    const produced = (async () => {
      while (ids.length < EVENTS) {
        if (ids.length < allowed)
          ids.push(...(await produceLoginEvents(producer, PER_TRANSACTION)));
        await sleep(20);
      }
    })();
    let brokerDown = false;
    try {
      await waitUntil(
        async () => ids.length >= EVENTS / 3 && (await recordedCount(producer, ids)) > 0,
        'the stream to flow',
      );
      allowed = (2 * EVENTS) / 3;
      brokerDown = true;
      await kafka.stop();
      await waitUntil(() => ids.length >= allowed, 'events produced while the broker is away');
      const recordedWhileDown = await recordedCount(producer, ids);
      const waiting = await unpublishedCount(producer);
      // Truly mid-stream: some events were in, the ones produced while the broker was away
      // waited in the outbox, and the last third is still to come.
      expect(recordedWhileDown).toBeGreaterThan(0);
      expect(recordedWhileDown).toBeLessThan(ids.length);
      expect(waiting).toBeGreaterThan(0);
      allowed = EVENTS;
      await kafka.start();
      brokerDown = false;
    } finally {
      // Whatever failed, the service must find a broker to say goodbye to.
      if (brokerDown) await kafka.start().catch(() => undefined);
      await produced;
    }
    await waitUntil(
      async () => (await recordedCount(producer, ids)) === EVENTS,
      `all ${EVENTS} events after the broker came back`,
      45_000,
    );
    await expectExactlyOnceAndVerified(producer, ids);
  }, 90_000);
});
