import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { generateKeyPair, exportJWK, flattenedVerify, importJWK, type JWK } from 'jose';
import { b64, startKms, type KmsHarness } from '../testing/kms-harness.js';

describe('key purposes: signing, MAC and recipient keys (real PostgreSQL, through HTTP)', () => {
  let kms: KmsHarness;

  beforeAll(async () => {
    kms = await startKms();
  });

  afterAll(async () => {
    await kms?.stop();
  });

  it.each(['ES256', 'EdDSA', 'PS256', 'RS256'])(
    'signs with %s so that any JOSE library verifies with the published public key',
    async (algorithm) => {
      const name = `signer-${algorithm.toLowerCase()}`;
      const created = await kms.call('POST', '/kms/v1/keys', {
        name,
        purpose: 'SIGN_VERIFY',
        algorithm,
      });
      expect(created.status).toBe(201);
      const publicKey = (created.body['versions'] as { publicKey: JWK }[])[0]!.publicKey;
      expect(publicKey).toMatchObject({ alg: algorithm, use: 'sig', kid: `${name}/1` });
      expect(publicKey.d).toBeUndefined();

      // A JWS signing input, signed by the service and checked by jose with the public JWK alone.
      const header = Buffer.from(JSON.stringify({ alg: algorithm })).toString('base64url');
      const payload = Buffer.from('{"sub":"alice"}').toString('base64url');
      const signed = await kms.call('POST', `/kms/v1/keys/${name}:sign`, {
        message: b64(`${header}.${payload}`),
      });
      expect(signed).toMatchObject({ status: 200, body: { keyVersion: 1 } });
      const signature = Buffer.from(signed.body['signature'] as string, 'base64');
      await expect(
        flattenedVerify(
          { protected: header, payload, signature: signature.toString('base64url') },
          await importJWK(publicKey, algorithm),
        ),
      ).resolves.toBeDefined();

      const verified = await kms.call('POST', `/kms/v1/keys/${name}:verify`, {
        message: b64(`${header}.${payload}`),
        signature: signed.body['signature'],
      });
      expect(verified).toMatchObject({ status: 200, body: { valid: true, keyVersion: 1 } });
      const forged = await kms.call('POST', `/kms/v1/keys/${name}:verify`, {
        message: b64(`${header}.${payload}x`),
        signature: signed.body['signature'],
      });
      expect(forged.body['valid']).toBe(false);
      const garbage = await kms.call('POST', `/kms/v1/keys/${name}:verify`, {
        message: b64('m'),
        signature: b64('short'),
      });
      expect(garbage).toMatchObject({ status: 200, body: { valid: false } });
    },
  );

  it('verifies old signatures after rotation with the version they name', async () => {
    const message = b64('release 1.2.3');
    const before = await kms.call('POST', '/kms/v1/keys/signer-es256:sign', { message });
    await kms.call('POST', '/kms/v1/keys/signer-es256:rotate');
    const after = await kms.call('POST', '/kms/v1/keys/signer-es256:sign', { message });
    expect(after.body['keyVersion']).toBe(2);
    const check = (signature: unknown, keyVersion?: number) =>
      kms.call('POST', '/kms/v1/keys/signer-es256:verify', {
        message,
        signature,
        ...(keyVersion ? { keyVersion } : {}),
      });
    expect((await check(before.body['signature'], 1)).body['valid']).toBe(true);
    expect((await check(before.body['signature'])).body).toEqual({ valid: false, keyVersion: 2 });
    expect((await check(after.body['signature'])).body).toEqual({ valid: true, keyVersion: 2 });
  });

  it('computes and checks HMAC-SHA256 MACs', async () => {
    expect(
      (await kms.call('POST', '/kms/v1/keys', { name: 'webhooks', purpose: 'MAC' })).body,
    ).toMatchObject({ purpose: 'MAC', algorithm: 'HMAC_SHA256' });
    const message = b64('{"event":"paid"}');
    const { body } = await kms.call('POST', '/kms/v1/keys/webhooks:mac', { message });
    expect(Buffer.from(body['mac'] as string, 'base64')).toHaveLength(32);
    const check = (mac: string, text = message) =>
      kms.call('POST', '/kms/v1/keys/webhooks:verifyMac', { message: text, mac });
    expect((await check(body['mac'] as string)).body).toEqual({ valid: true, keyVersion: 1 });
    expect((await check(body['mac'] as string, b64('{"event":"refunded"}'))).body['valid']).toBe(
      false,
    );
    expect((await check(b64('x'))).body['valid']).toBe(false);
  });

  it('keeps only the public half of recipient (WRAP) keys and refuses private ones', async () => {
    const { publicKey, privateKey } = await generateKeyPair('ECDH-ES+A256KW', {
      extractable: true,
    });
    const publicJwk = await exportJWK(publicKey);
    const created = await kms.call('POST', '/kms/v1/keys', {
      name: 'alice-recipient',
      purpose: 'WRAP',
      publicKey: publicJwk,
    });
    expect(created.status).toBe(201);
    expect((created.body['versions'] as { publicKey: JWK }[])[0]!.publicKey).toMatchObject({
      kty: 'EC',
      crv: 'P-256',
      x: publicJwk.x,
      y: publicJwk.y,
      use: 'enc',
    });
    const [row] = await kms.query<{ wrapped_material: Buffer | null }>(
      `SELECT wrapped_material FROM key_versions WHERE key_name = 'alice-recipient'`,
    );
    expect(row!.wrapped_material).toBeNull();

    const refused = await kms.call('POST', '/kms/v1/keys', {
      name: 'bob-recipient',
      purpose: 'WRAP',
      publicKey: await exportJWK(privateKey),
    });
    expect(refused).toMatchObject({ status: 400, body: { code: 'validation-failed' } });
    const rotateWithout = await kms.call('POST', '/kms/v1/keys/alice-recipient:rotate');
    expect(rotateWithout).toMatchObject({ status: 400, body: { code: 'failed-precondition' } });
    const next = await exportJWK((await generateKeyPair('ECDH-ES+A256KW')).publicKey);
    const rotated = await kms.call('POST', '/kms/v1/keys/alice-recipient:rotate', {
      publicKey: next,
    });
    expect(rotated.body['primaryVersion']).toBe(2);
    // Only the recipient can rotate a WRAP key, so it cannot be put on a schedule either.
    expect(
      await kms.call('PATCH', '/kms/v1/keys/alice-recipient', { rotationPeriodSeconds: 86_400 }),
    ).toMatchObject({ status: 400, body: { code: 'failed-precondition' } });
  });

  it('refuses operations the purpose does not allow, and malformed creations', async () => {
    await kms.call('POST', '/kms/v1/keys', { name: 'plain', purpose: 'ENCRYPT_DECRYPT' });
    const misuse = await Promise.all([
      kms.call('POST', '/kms/v1/keys/plain:sign', { message: b64('m') }),
      kms.call('POST', '/kms/v1/keys/webhooks:encrypt', { plaintext: b64('m') }),
      kms.call('POST', '/kms/v1/keys/signer-eddsa:mac', { message: b64('m') }),
    ]);
    for (const answer of misuse) {
      expect(answer).toMatchObject({ status: 400, body: { code: 'failed-precondition' } });
    }
    const malformed = await Promise.all([
      kms.call('POST', '/kms/v1/keys', { name: 'x1', purpose: 'SIGN_VERIFY' }),
      kms.call('POST', '/kms/v1/keys', { name: 'x2', purpose: 'MAC', algorithm: 'ES256' }),
      kms.call('POST', '/kms/v1/keys', { name: 'x3', purpose: 'WRAP' }),
      kms.call('POST', '/kms/v1/keys', { name: 'system.mine', purpose: 'MAC' }),
      kms.call('POST', '/kms/v1/keys', { name: 'x4', purpose: 'MAC', rotationPeriodSeconds: 60 }),
    ]);
    for (const answer of malformed) {
      expect(answer).toMatchObject({ status: 400, body: { code: 'validation-failed' } });
    }
    expect(
      await kms.query(
        `SELECT name FROM keys WHERE name IN ('x1', 'x2', 'x3', 'system.mine', 'x4')`,
      ),
    ).toEqual([]);
  });
});
