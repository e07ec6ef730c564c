import { describe, expect, it } from '@jest/globals';
import { AllowedMethods } from './allowed-methods.js';

describe('AllowedMethods', () => {
  const index = new AllowedMethods();
  index.record('GET', '/kms/v1/keys/:name');
  index.record('HEAD', '/kms/v1/keys/:name');
  index.record(['POST', 'DELETE'], '/kms/v1/keys/:name');
  index.record('GET', '/kms/v1/keys/:name');
  index.record('POST', '/csp-reports');

  it('names every method a path has routes for, parameters matched as Fastify matches them', () => {
    expect(index.of('/kms/v1/keys/ledger').sort()).toEqual(['DELETE', 'GET', 'HEAD', 'POST']);
    expect(index.of('/csp-reports')).toEqual(['POST']);
  });

  it('names none for a path without routes, or a malformed one', () => {
    expect(index.of('/kms/v1/nothing')).toEqual([]);
    expect(index.of('/kms/v1/keys/%zz')).toEqual([]);
  });
});
