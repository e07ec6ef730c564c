import { describe, expect, it } from '@jest/globals';
import { RampartError } from '@rampart/platform';
import { SCIM_ERROR_SCHEMA, toScimError } from './scim.errors.js';
import { etagMatches, project, readListQuery } from './scim.resource.js';

describe('etagMatches', () => {
  it.each([
    ['W/"3"', true],
    ['"3"', true],
    ['*', true],
    ['W/"2", W/"3"', true],
    ['W/"33"', false],
    ['3', false],
    ['', false],
  ])('%s against version 3 is %s', (header, expected) => {
    expect(etagMatches(header, 3)).toBe(expected);
  });
});

describe('readListQuery', () => {
  it('defaults, clamps and reads the list parameters', () => {
    expect(readListQuery({})).toMatchObject({ startIndex: 1, count: 100, descending: false });
    expect(readListQuery({ startIndex: '0', count: '-4' })).toMatchObject({
      startIndex: 1,
      count: 0,
    });
    expect(readListQuery({ count: '100000' })).toMatchObject({ count: 200 });
    expect(readListQuery({ filter: '  ', sortOrder: 'DESCENDING' })).toEqual(
      expect.not.objectContaining({ filter: expect.anything() }),
    );
    expect(readListQuery({ sortOrder: 'Descending' }).descending).toBe(true);
  });

  it.each([
    [{ count: 'ten' }, 'invalidValue'],
    [{ startIndex: '1.5' }, 'invalidValue'],
    [{ sortOrder: 'sideways' }, 'invalidValue'],
    [{ filter: ['a eq 1', 'b eq 2'] }, 'invalidFilter'],
    [{ count: ['1', '2'] }, 'invalidValue'],
  ])('refuses %j', (query, scimType) => {
    try {
      readListQuery(query);
      throw new Error('expected a refusal');
    } catch (error) {
      expect(error).toBeInstanceOf(RampartError);
      expect((error as RampartError).extensions['scimType']).toBe(scimType);
    }
  });
});

describe('project', () => {
  const resource = {
    schemas: ['s'],
    id: '1',
    userName: 'a',
    name: { givenName: 'A' },
    emails: [],
    meta: {},
  };
  it('keeps id, schemas and meta, and selects top-level attributes', () => {
    expect(project(resource, readListQuery({ attributes: 'name.givenName' }).projection)).toEqual({
      schemas: ['s'],
      id: '1',
      name: { givenName: 'A' },
      meta: {},
    });
    expect(
      project(resource, readListQuery({ excludedAttributes: 'emails,id' }).projection),
    ).toEqual({
      schemas: ['s'],
      id: '1',
      userName: 'a',
      name: { givenName: 'A' },
      meta: {},
    });
  });
});

describe('toScimError', () => {
  const problem = { type: 't', title: 'x', instance: '/scim/v2/Users' };
  it('carries the status as a string, the scimType and the detail with field issues', () => {
    expect(
      toScimError({
        ...problem,
        status: 400,
        code: 'validation-failed',
        detail: 'Bad.',
        errors: [{ path: 'userName', message: 'is required' }],
      }),
    ).toEqual({
      schemas: [SCIM_ERROR_SCHEMA],
      status: '400',
      scimType: 'invalidValue',
      detail: 'Bad. userName: is required',
    });
    expect(
      toScimError({
        ...problem,
        status: 400,
        code: 'validation-failed',
        scimType: 'invalidFilter',
      }),
    ).toMatchObject({ scimType: 'invalidFilter' });
    expect(
      toScimError({ ...problem, status: 400, code: 'bad-request', detail: 'JSON' }),
    ).toMatchObject({
      scimType: 'invalidSyntax',
    });
    expect(toScimError({ ...problem, status: 401, code: 'unauthenticated' })).toEqual({
      schemas: [SCIM_ERROR_SCHEMA],
      status: '401',
    });
  });
});
