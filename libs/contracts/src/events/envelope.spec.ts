import { describe, expect, it } from '@jest/globals';
import { IdentityLifecycle } from './lifecycle/lifecycle.events.js';
import { validateEvent, type EventDefinition } from './envelope.js';

const known = new Map<string, EventDefinition>([
  [IdentityLifecycle.started.type, IdentityLifecycle.started],
]);

const valid = {
  specversion: '1.0',
  id: '0b6f5f7e-8c1c-4d8e-9a3f-5d2b6f1c9e10',
  source: '/rampart/identity',
  type: 'rampart.identity.lifecycle.started',
  subject: 'identity',
  time: '2026-11-27T20:00:00.000Z',
  datacontenttype: 'application/json',
  tenant: 'default',
  traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
  data: {
    service: 'identity',
    instanceId: 'i-1',
    version: '0.1.0',
    mode: 'all-in-one',
    transport: 'in-process',
  },
};

describe('validateEvent', () => {
  it('accepts a well-formed event of a known type', () => {
    const result = validateEvent(valid, known);
    expect(result.ok).toBe(true);
  });

  it.each([
    ['a missing id', { ...valid, id: undefined }],
    ['a non-uuid id', { ...valid, id: 'x' }],
    ['a wrong spec version', { ...valid, specversion: '0.3' }],
    ['a foreign source', { ...valid, source: 'https://evil.example' }],
    ['a malformed traceparent', { ...valid, traceparent: 'nope' }],
    ['an unknown extension', { ...valid, password: 'x' }],
    ['no tenant', { ...valid, tenant: undefined }],
  ])('refuses an envelope with %s', (_case, candidate) => {
    const result = validateEvent(candidate, known);
    expect(result).toMatchObject({ ok: false });
    expect(result.ok ? '' : result.reason).toMatch(/^envelope/);
  });

  it('refuses a type the consumer did not declare', () => {
    const result = validateEvent({ ...valid, type: 'rampart.identity.user.deleted' }, known);
    expect(result).toEqual({
      ok: false,
      reason: 'unknown event type rampart.identity.user.deleted',
    });
  });

  it('refuses data that does not match the schema of its type', () => {
    const result = validateEvent({ ...valid, data: { ...valid.data, mode: 'cluster' } }, known);
    expect(result.ok ? '' : result.reason).toMatch(/^data of rampart.identity.lifecycle.started/);
  });
});
