import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { createTestWorkloadKeys } from '../testing-support/test-workload-keys.js';
import { loadWorkloadSigner, loadWorkloadVerifier } from './workload-identity.js';

describe('workload assertions', () => {
  afterEach(() => {
    jest.useRealTimers();
  });

  it('accepts a trusted caller for this audience only, and not once expired (cache included)', async () => {
    const keys = await createTestWorkloadKeys(['identity', 'key-management', 'audit']);
    const signer = await loadWorkloadSigner('identity', keys.keyFile('identity'));
    const verifier = await loadWorkloadVerifier('key-management', keys.trustDir);
    const assertion = await signer.assertionFor('key-management');

    expect(await verifier.verify(assertion)).toEqual({ ok: true, caller: 'identity' });
    expect(await verifier.verify(assertion)).toEqual({ ok: true, caller: 'identity' }); // from the cache
    expect(await verifier.verify(await signer.assertionFor('audit'))).toEqual({
      ok: false,
      reason: 'invalid',
    });
    expect(await verifier.verify(`${assertion.slice(0, -4)}AAAA`)).toEqual({
      ok: false,
      reason: 'invalid',
    });
    expect(await verifier.verify('not.a.jwt')).toEqual({ ok: false, reason: 'malformed' });
    expect(await verifier.verify(undefined)).toEqual({ ok: false, reason: 'missing' });

    jest.useFakeTimers({
      now: Date.now() + 70_000,
      doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'],
    });
    expect(await verifier.verify(assertion)).toEqual({ ok: false, reason: 'invalid' });
  });
});
