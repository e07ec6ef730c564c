import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer, request as httpRequest, type Server } from 'node:http';
import {
  DataCategoryRuleError,
  EnvelopeEncryption,
  KmsClient,
  KmsError,
  loadWorkloadSigner,
  parseEnvelope,
  RampartError,
  type EnvelopeEncryptionOptions,
  type RunningService,
  type WorkloadSigner,
} from '@rampart/platform';
import { createTestWorkloadKeys, rejectionOf as failure } from '@rampart/platform/testing-support';
import { startKms, type KmsHarness } from '../testing/kms-harness.js';

/**
 * A transparent HTTP relay in front of the KMS that counts the calls passing through it: the
 * tests see how often the envelope client really goes to the service, without mocking anything.
 */
async function startCountingProxy(target: string) {
  const paths: string[] = [];
  const server: Server = createServer((incoming, outgoing) => {
    paths.push(incoming.url ?? '');
    const upstream = httpRequest(
      new URL(incoming.url ?? '/', target),
      { method: incoming.method, headers: incoming.headers },
      (answer) => {
        outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(outgoing);
      },
    );
    upstream.on('error', () => outgoing.destroy());
    incoming.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    /** Calls whose path ends with `suffix` (":generateDataKey", ":decrypt") since the last reset. */
    calls: (suffix: string) => paths.filter((path) => path.endsWith(suffix)).length,
    reset: () => paths.splice(0),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

type Proxy = Awaited<ReturnType<typeof startCountingProxy>>;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('envelope encryption against the real key-management service', () => {
  let harness: KmsHarness;
  let service: RunningService;
  let proxy: Proxy;
  let signer: WorkloadSigner;
  const clients: KmsClient[] = [];
  const envelopes: EnvelopeEncryption[] = [];

  /** An envelope client of its own (empty caches) talking to the KMS through the counting proxy. */
  function envelopeClient(options: Partial<EnvelopeEncryptionOptions> = {}) {
    const kms = new KmsClient({ baseUrl: proxy.url, signer });
    clients.push(kms);
    const client = new EnvelopeEncryption({ kms, defaultKey: 'records', ...options });
    envelopes.push(client);
    return client;
  }

  beforeAll(async () => {
    harness = await startKms();
    service = harness.service;
    signer = harness.signer('consent');
    proxy = await startCountingProxy(service.url);
    const admin = new KmsClient({ baseUrl: service.url, signer });
    await admin.createKey('records');
    await admin.createKey('other-records');
    await admin.close();
  });

  afterAll(async () => {
    for (const client of envelopes) client.close();
    for (const client of clients) await client.close();
    await proxy?.close();
    await harness?.stop();
  });

  describe('round trip and integrity', () => {
    it('seals locally and opens by unwrapping through the service', async () => {
      const writer = envelopeClient();
      const record = Buffer.from('invoice 2026-117: 4,200 EUR');
      const context = { table: 'invoices', id: '117' };
      const envelope = await writer.encrypt(record, { category: 'confidential', context });
      expect(envelope.toString('latin1')).not.toContain('invoice');
      expect(parseEnvelope(envelope)).toMatchObject({
        category: 'confidential',
        keyKind: 'named',
        keyName: 'records',
        keyVersion: 1,
      });
      // Another process: nothing cached, so the data key is unwrapped by the service.
      proxy.reset();
      const reader = envelopeClient();
      expect(await reader.decrypt(envelope, { id: '117', table: 'invoices' })).toEqual(record);
      expect(proxy.calls('/kms/v1/keys/records:decrypt')).toBe(1);
      expect(await writer.decrypt(envelope, context)).toEqual(record);
      // header | iv (12) | ciphertext as long as the record | tag (16)
      expect(envelope).toHaveLength(
        parseEnvelope(envelope).header.length + 12 + record.length + 16,
      );
    });

    it('refuses another context, cached or not, with one answer', async () => {
      const writer = envelopeClient();
      const envelope = await writer.encrypt(Buffer.from('x'), {
        category: 'internal',
        context: { id: '1' },
      });
      expect(await writer.decrypt(envelope, { id: '1' })).toEqual(Buffer.from('x'));
      const wrongContexts: Record<string, string>[] = [{ id: '2' }, {}, { id: '1', extra: 'y' }];
      const errors = [
        // Warm cache: the record's own tag refuses it.
        ...(await Promise.all(
          wrongContexts.map((context) => failure(writer.decrypt(envelope, context))),
        )),
        // Cold cache: the service refuses to unwrap the data key for another context.
        ...(await Promise.all(
          wrongContexts.map((context) => failure(envelopeClient().decrypt(envelope, context))),
        )),
      ];
      for (const error of errors) {
        expect(error).toBeInstanceOf(RampartError);
        expect(error).toMatchObject({ code: 'decryption-failed', status: 400 });
        expect((error as RampartError).detail).toBe((errors[0] as RampartError).detail);
      }
    });

    it('lets a caller with the right context succeed next to a concurrent one with a wrong context', async () => {
      const envelope = await envelopeClient().encrypt(Buffer.from('shared'), {
        category: 'internal',
        context: { id: '5' },
      });
      for (let attempt = 0; attempt < 3; attempt += 1) {
        const reader = envelopeClient();
        const [wrong, right] = await Promise.allSettled([
          reader.decrypt(envelope, { id: '6' }),
          reader.decrypt(envelope, { id: '5' }),
        ]);
        expect(wrong).toMatchObject({ status: 'rejected', reason: { code: 'decryption-failed' } });
        expect(right).toEqual({ status: 'fulfilled', value: Buffer.from('shared') });
      }
    });

    it('refuses every tampered or foreign envelope', async () => {
      const writer = envelopeClient();
      const context = { id: '9' };
      const envelope = await writer.encrypt(Buffer.from('tamper with me, if you can'), {
        category: 'internal',
        context,
      });
      const parsed = parseEnvelope(envelope);
      const headerLength = parsed.header.length;
      const flip = (offset: number) => {
        const copy = Buffer.from(envelope);
        copy[offset]! ^= 1;
        return copy;
      };
      const withByte = (offset: number, value: number) => {
        const copy = Buffer.from(envelope);
        copy[offset] = value;
        return copy;
      };
      const tampered = [
        withByte(3, 3), // category internal -> confidential: another wrap context
        withByte(3, 4), // -> personal, whose records never use named keys
        withByte(3, 99), // no such category
        withByte(2, 2), // unknown format version
        flip(0),
        flip(headerLength - 1), // wrapped data key
        flip(headerLength - parsed.wrappedKey.length - 3), // key version
        flip(headerLength + 2), // iv
        flip(headerLength + 12 + 3), // ciphertext
        flip(envelope.length - 1), // tag
        envelope.subarray(0, envelope.length - 1),
        envelope.subarray(0, 10),
        Buffer.from('not an envelope'),
        Buffer.alloc(0),
      ];
      for (const cache of ['warm', 'cold']) {
        const reader = cache === 'warm' ? writer : envelopeClient();
        for (const bytes of tampered) {
          await expect(reader.decrypt(bytes, context)).rejects.toMatchObject({
            code: 'decryption-failed',
          });
        }
      }
      expect(await writer.decrypt(envelope, context)).toEqual(
        Buffer.from('tamper with me, if you can'),
      );
    });
  });

  describe('data-key cache bounds (counted at the service)', () => {
    it('reuses one data key for a key, category and context until its message bound', async () => {
      const client = envelopeClient({ bounds: { maxMessages: 3 } });
      proxy.reset();
      for (let index = 0; index < 7; index += 1)
        await client.encrypt(Buffer.from(`r${index}`), {
          category: 'internal',
          context: { t: 'a' },
        });
      expect(proxy.calls(':generateDataKey')).toBe(3); // 3 + 3 + 1 records
      await client.encrypt(Buffer.from('r'), { category: 'internal', context: { t: 'b' } });
      await client.encrypt(Buffer.from('r'), { category: 'confidential', context: { t: 'a' } });
      await client.encrypt(Buffer.from('r'), {
        category: 'internal',
        key: 'other-records',
        context: { t: 'a' },
      });
      expect(proxy.calls(':generateDataKey')).toBe(6); // other context, category, key: new keys
      expect(proxy.calls('/kms/v1/keys/other-records:generateDataKey')).toBe(1);
    });

    it('retires a data key at its byte bound and gives oversized records a key of their own', async () => {
      const client = envelopeClient({ bounds: { maxBytes: 100 } });
      proxy.reset();
      const encrypt = (bytes: number) =>
        client.encrypt(Buffer.alloc(bytes, 1), { category: 'internal' });
      await encrypt(40);
      await encrypt(40); // 80 bytes on the first key
      expect(proxy.calls(':generateDataKey')).toBe(1);
      await encrypt(40); // would be 120: next key
      expect(proxy.calls(':generateDataKey')).toBe(2);
      const big = await encrypt(500); // never cached
      await encrypt(40); // the second key still has room
      expect(proxy.calls(':generateDataKey')).toBe(3);
      expect(await client.decrypt(big)).toEqual(Buffer.alloc(500, 1));
    });

    it('retires a data key at its age bound', async () => {
      const client = envelopeClient({ bounds: { maxAgeMs: 300 } });
      proxy.reset();
      await client.encrypt(Buffer.from('a'), { category: 'internal' });
      await client.encrypt(Buffer.from('b'), { category: 'internal' });
      expect(proxy.calls(':generateDataKey')).toBe(1);
      await sleep(350);
      await client.encrypt(Buffer.from('c'), { category: 'internal' });
      expect(proxy.calls(':generateDataKey')).toBe(2);
    });

    it('keeps at most maxEncryptionKeys data keys, dropping the oldest', async () => {
      const client = envelopeClient({ maxEncryptionKeys: 2 });
      proxy.reset();
      for (const t of ['a', 'b', 'c', 'a'])
        await client.encrypt(Buffer.from('r'), { category: 'internal', context: { t } });
      expect(proxy.calls(':generateDataKey')).toBe(4); // "a" was dropped when "c" came
      await client.encrypt(Buffer.from('r'), { category: 'internal', context: { t: 'a' } });
      expect(proxy.calls(':generateDataKey')).toBe(4);
    });

    it('fetches one data key for many concurrent encryptions', async () => {
      const client = envelopeClient();
      proxy.reset();
      const sealed = await Promise.all(
        Array.from({ length: 25 }, (_, index) =>
          client.encrypt(Buffer.from(`r${index}`), {
            category: 'internal',
            context: { batch: '1' },
          }),
        ),
      );
      expect(proxy.calls(':generateDataKey')).toBe(1);
      expect(
        new Set(sealed.map((envelope) => parseEnvelope(envelope).wrappedKey.toString('hex'))).size,
      ).toBe(1);
    });

    it('caches unwrapped keys for decryption within the bounds', async () => {
      const writer = envelopeClient();
      const first = await writer.encrypt(Buffer.from('1'), { category: 'internal' });
      const second = await writer.encrypt(Buffer.from('2'), { category: 'internal' });
      const third = await writer.encrypt(Buffer.from('3'), {
        category: 'internal',
        context: { n: '3' },
      });
      proxy.reset();
      const reader = envelopeClient({ maxDecryptionKeys: 1 });
      await Promise.all([reader.decrypt(first), reader.decrypt(second), reader.decrypt(first)]);
      expect(proxy.calls(':decrypt')).toBe(1); // same data key, one unwrap
      await reader.decrypt(third, { n: '3' }); // another data key replaces it (bound of 1)
      await reader.decrypt(first);
      expect(proxy.calls(':decrypt')).toBe(3);

      const uncached = envelopeClient({ bounds: { decryptMaxAgeMs: 0 } });
      proxy.reset();
      await uncached.decrypt(first);
      await uncached.decrypt(first);
      expect(proxy.calls(':decrypt')).toBe(2);

      const shortLived = envelopeClient({ bounds: { decryptMaxAgeMs: 200 } });
      proxy.reset();
      await shortLived.decrypt(first);
      await shortLived.decrypt(second);
      await sleep(250);
      await shortLived.decrypt(first);
      expect(proxy.calls(':decrypt')).toBe(2);
    });

    it('never loosens the bounds of a category', async () => {
      // The client asks for a billion records per data key; confidential allows 100,000.
      const client = envelopeClient({ bounds: { maxMessages: 1_000_000_000 } });
      proxy.reset();
      const record = Buffer.from('r');
      for (let index = 0; index < 100_000; index += 1)
        await client.encrypt(record, { category: 'confidential' });
      expect(proxy.calls(':generateDataKey')).toBe(1);
      await client.encrypt(record, { category: 'confidential' });
      expect(proxy.calls(':generateDataKey')).toBe(2);
    });
  });

  describe('data categories', () => {
    it('refuses encryptions that break a category rule, before calling the service', async () => {
      const client = envelopeClient({ defaultKey: undefined });
      proxy.reset();
      const subject = { tenant: 't1', subject: 'u1' };
      const broken = [
        client.encrypt(Buffer.from('x'), { category: 'personal' }),
        client.encrypt(Buffer.from('x'), {
          category: 'special-category',
          subject: { tenant: 't1', subject: '' },
        }),
        client.encrypt(Buffer.from('x'), { category: 'personal', subject, key: 'records' }),
        client.encrypt(Buffer.from('x'), { category: 'internal', subject, key: 'records' }),
        client.encrypt(Buffer.from('x'), { category: 'confidential' }), // no key named, no default
        client.encrypt(Buffer.from('x'), { category: 'secret' as 'internal', key: 'records' }),
      ];
      for (const attempt of broken)
        expect(await failure(attempt)).toBeInstanceOf(DataCategoryRuleError);
      expect(proxy.calls(':generateDataKey')).toBe(0);
    });

    it('encrypts public data on request (allowed, not required)', async () => {
      const client = envelopeClient();
      const envelope = await client.encrypt(Buffer.from('press release'), { category: 'public' });
      expect(parseEnvelope(envelope).category).toBe('public');
      expect(await client.decrypt(envelope)).toEqual(Buffer.from('press release'));
    });
  });

  describe('per-subject keys and crypto-shredding', () => {
    const alice = { tenant: 'acme', subject: 'alice@example.com' };
    const bob = { tenant: 'acme', subject: 'bob@example.com' };

    it("wraps personal data under the subject's own key, named by a pseudonym", async () => {
      const client = envelopeClient();
      proxy.reset();
      const context = { table: 'profiles' };
      const forAlice = await client.encrypt(Buffer.from('alice, born 1990'), {
        category: 'personal',
        subject: alice,
        context,
      });
      const forBob = await client.encrypt(Buffer.from('bob, born 1985'), {
        category: 'personal',
        subject: bob,
        context,
      });
      expect(proxy.calls('/kms/v1/subjects:generateDataKey')).toBe(2);
      const aliceHeader = parseEnvelope(forAlice);
      expect(aliceHeader).toMatchObject({ category: 'personal', keyKind: 'subject' });
      expect(aliceHeader.keyName).not.toBe(parseEnvelope(forBob).keyName);
      expect(forAlice.toString('latin1')).not.toContain('alice');
      expect(await envelopeClient().decrypt(forAlice, context)).toEqual(
        Buffer.from('alice, born 1990'),
      );
    });

    it('gives special-category data stricter bounds, whatever the client asks for', async () => {
      const client = envelopeClient({ bounds: { maxMessages: 1_000_000_000 } });
      proxy.reset();
      const record = Buffer.from('diagnosis');
      const subject = { tenant: 'acme', subject: 'patient-7' };
      for (let index = 0; index < 1_000; index += 1)
        await client.encrypt(record, { category: 'special-category', subject });
      expect(proxy.calls(':generateDataKey')).toBe(1);
      await client.encrypt(record, { category: 'special-category', subject });
      expect(proxy.calls(':generateDataKey')).toBe(2); // 1,000 records per data key at most
      // The same 1,001 records as personal data share one data key (10,000 allowed).
      for (let index = 0; index < 1_001; index += 1)
        await client.encrypt(record, { category: 'personal', subject });
      expect(proxy.calls(':generateDataKey')).toBe(3);
    });

    it("makes a shredded subject's envelopes fail with key-destroyed, and no one else's", async () => {
      const carol = { tenant: 'acme', subject: 'carol' };
      const dave = { tenant: 'acme', subject: 'dave' };
      const writer = envelopeClient();
      const context = { table: 'messages' };
      const encrypt = (text: string, subject: typeof carol) =>
        writer.encrypt(Buffer.from(text), { category: 'special-category', subject, context });
      const forCarol = await encrypt('carol: therapy notes', carol);
      const forDave = await encrypt('dave: therapy notes', dave);
      // Another process that read Carol's record just before, keeping unwrapped keys 300 ms.
      const reader = envelopeClient({ bounds: { decryptMaxAgeMs: 300 } });
      expect(await reader.decrypt(forCarol, context)).toEqual(Buffer.from('carol: therapy notes'));
      expect(await writer.decrypt(forCarol, context)).toEqual(Buffer.from('carol: therapy notes'));

      await writer.shredSubject(carol, { immediately: true });

      const destroyed = { code: 'key-destroyed', status: 410 };
      // The shredding process forgot Carol's keys; a fresh process never had them.
      await expect(writer.decrypt(forCarol, context)).rejects.toMatchObject(destroyed);
      await expect(envelopeClient().decrypt(forCarol, context)).rejects.toMatchObject(destroyed);
      await expect(encrypt('carol: more notes', carol)).rejects.toMatchObject(destroyed);
      // The other process reads it until its cached key reaches its age (documented bound).
      expect(await reader.decrypt(forCarol, context)).toEqual(Buffer.from('carol: therapy notes'));
      await sleep(350);
      await expect(reader.decrypt(forCarol, context)).rejects.toMatchObject(destroyed);
      expect(await envelopeClient().decrypt(forDave, context)).toEqual(
        Buffer.from('dave: therapy notes'),
      );
    });
  });

  describe('KMS failures as typed errors', () => {
    it('reports an unknown key, a refused caller and an unreachable service as upstream failures', async () => {
      const client = envelopeClient();
      expect(
        await failure(client.encrypt(Buffer.from('x'), { category: 'internal', key: 'missing' })),
      ).toMatchObject({
        code: 'bad-gateway',
        status: 502,
        // The KMS answers a missing key like one the caller may not use.
        upstream: { status: 403, code: 'forbidden' },
      });

      const stranger = await loadWorkloadSigner(
        'audit',
        (await createTestWorkloadKeys(['audit'])).keyFile('audit'),
      );
      const refused = new KmsClient({ baseUrl: service.url, signer: stranger });
      clients.push(refused);
      expect(await failure(refused.generateDataKey('records', Buffer.alloc(0)))).toMatchObject({
        code: 'bad-gateway',
        upstream: { status: 401, code: 'unauthenticated' },
      });

      const closed = createServer();
      await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
      const { port } = closed.address() as { port: number };
      await new Promise((resolve) => closed.close(resolve));
      const unreachable = new KmsClient({ baseUrl: `http://127.0.0.1:${port}`, signer });
      clients.push(unreachable);
      const error = await failure(unreachable.generateDataKey('records', Buffer.alloc(0)));
      expect(error).toBeInstanceOf(KmsError);
      expect(error).toMatchObject({ code: 'service-unavailable', status: 503, expose: false });

      // Accepts the connection, never answers.
      const silent = createServer(() => undefined);
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
      const slow = new KmsClient({
        baseUrl: `http://127.0.0.1:${(silent.address() as { port: number }).port}`,
        signer,
        timeoutMs: 200,
      });
      clients.push(slow);
      try {
        expect(await failure(slow.generateDataKey('records', Buffer.alloc(0)))).toMatchObject({
          code: 'gateway-timeout',
          status: 504,
        });
      } finally {
        silent.closeAllConnections();
        await new Promise((resolve) => silent.close(resolve));
      }
    });
  });
});
