import { describe, expect, it } from '@jest/globals';
import { RampartError } from '@rampart/platform';
import { parseScimFilter } from './filter/index.js';
import { applyPatch, matches, PATCH_OP_SCHEMA } from './scim.patch.js';
import { GROUP_PATCHABLE, GROUP_SCHEMA, USER_PATCHABLE, USER_SCHEMA } from './scim.schemas.js';

const user = () => ({
  userName: 'alice',
  name: { givenName: 'Alice', familyName: 'Smith' },
  emails: [{ value: 'alice@example.org', type: 'work', primary: true }],
  active: true,
});
const group = () => ({
  displayName: 'Staff',
  members: [
    { value: 'aaaaaaaa-0000-4000-8000-000000000001', display: 'a' },
    { value: 'aaaaaaaa-0000-4000-8000-000000000002', display: 'b' },
  ],
});

const patchUser = (operations: unknown[], document: Record<string, unknown> = user()) =>
  applyPatch(
    document,
    { schemas: [PATCH_OP_SCHEMA], Operations: operations },
    USER_SCHEMA,
    USER_PATCHABLE,
  );
const patchGroup = (operations: unknown[]) =>
  applyPatch(
    group(),
    { schemas: [PATCH_OP_SCHEMA], Operations: operations },
    GROUP_SCHEMA,
    GROUP_PATCHABLE,
  );

function scimTypeOf(action: () => unknown): unknown {
  try {
    action();
  } catch (error) {
    if (error instanceof RampartError) return error.extensions['scimType'];
    throw error;
  }
  throw new Error('expected a refusal');
}

describe('applyPatch', () => {
  it('sets attributes from a value without a path, including dotted keys and the core schema URN', () => {
    expect(
      patchUser([
        { op: 'Replace', value: { active: false, 'name.givenName': 'Al', DISPLAYNAME: 'A.' } },
        { op: 'add', value: { [USER_SCHEMA]: { externalId: 'x-1' } } },
      ]),
    ).toEqual({
      ...user(),
      active: false,
      name: { givenName: 'Al', familyName: 'Smith' },
      displayName: 'A.',
      externalId: 'x-1',
    });
  });

  it('merges sub-attributes into a complex attribute and removes one by path', () => {
    expect(
      patchUser([{ op: 'replace', path: 'name', value: { familyName: 'Jones' } }])['name'],
    ).toEqual({
      givenName: 'Alice',
      familyName: 'Jones',
    });
    expect(patchUser([{ op: 'remove', path: 'name.familyName' }])['name']).toEqual({
      givenName: 'Alice',
    });
    expect(patchUser([{ op: 'remove', path: `${USER_SCHEMA}:name` }])).not.toHaveProperty('name');
  });

  it('replaces the sub-attribute of the elements a value filter selects, or refuses with noTarget', () => {
    expect(
      patchUser([{ op: 'replace', path: 'emails[type eq "WORK"].value', value: 'a@example.net' }])[
        'emails'
      ],
    ).toEqual([{ value: 'a@example.net', type: 'work', primary: true }]);
    expect(
      scimTypeOf(() =>
        patchUser([{ op: 'replace', path: 'emails[type eq "home"].value', value: 'x' }]),
      ),
    ).toBe('noTarget');
  });

  it('adds a primary value and takes the primary mark from the others', () => {
    expect(
      patchUser([
        { op: 'add', path: 'emails', value: [{ value: 'new@example.org', primary: true }] },
      ])['emails'],
    ).toEqual([
      { value: 'alice@example.org', type: 'work', primary: false },
      { value: 'new@example.org', primary: true },
    ]);
  });

  it('adds and removes members in the forms Okta and Azure AD send', () => {
    const added = patchGroup([
      { op: 'add', path: 'members', value: [{ value: 'aaaaaaaa-0000-4000-8000-000000000003' }] },
    ]);
    expect((added['members'] as unknown[]).length).toBe(3);
    const filtered = patchGroup([
      { op: 'remove', path: 'members[value eq "AAAAAAAA-0000-4000-8000-000000000001"]' },
    ]);
    expect(filtered['members']).toEqual([group().members[1]]);
    const listed = patchGroup([
      { op: 'Remove', path: 'members', value: [{ value: 'aaaaaaaa-0000-4000-8000-000000000002' }] },
    ]);
    expect(listed['members']).toEqual([group().members[0]]);
    expect(patchGroup([{ op: 'remove', path: 'members' }])).not.toHaveProperty('members');
    expect(patchGroup([{ op: 'replace', path: 'members', value: [] }])['members']).toEqual([]);
    // Removing what is not there is not an error (clients repeat removals).
    expect(patchGroup([{ op: 'remove', path: 'members[value eq "nobody"]' }])).toEqual(group());
  });

  it('ignores extension schemas and attributes the server does not keep', () => {
    expect(
      patchUser([
        {
          op: 'add',
          path: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department',
          value: 'R&D',
        },
        { op: 'replace', path: 'title', value: 'Boss' },
        { op: 'replace', value: { nickName: 'Al' } },
      ]),
    ).toEqual(user());
  });

  it('does not change the document it was given', () => {
    const document = user();
    patchUser(
      [{ op: 'replace', path: 'emails[primary eq true].value', value: 'x@example.org' }],
      document,
    );
    expect(document).toEqual(user());
  });

  it.each([
    ['an empty path', [{ op: 'remove', path: ' ' }], 'noTarget'],
    ['a missing path on remove', [{ op: 'remove' }], 'noTarget'],
    ['an unknown op', [{ op: 'copy', path: 'userName', value: 'x' }], 'invalidValue'],
    ['a missing value', [{ op: 'add', path: 'userName' }], 'invalidValue'],
    ['a path that is not a string', [{ op: 'add', path: 7, value: 'x' }], 'invalidPath'],
    ['a malformed path', [{ op: 'add', path: 'name..givenName', value: 'x' }], 'invalidPath'],
    ['an unclosed filter', [{ op: 'remove', path: 'emails[type eq "work"' }], 'invalidPath'],
    ['a bad filter', [{ op: 'remove', path: 'emails[type eq]' }], 'invalidPath'],
    [
      'a filter on a single value',
      [{ op: 'remove', path: 'userName[value eq "x"]' }],
      'invalidPath',
    ],
    [
      'a sub-attribute of a simple one',
      [{ op: 'add', path: 'userName.x', value: 'y' }],
      'invalidPath',
    ],
    ['a non-object value without a path', [{ op: 'add', value: 'x' }], 'invalidValue'],
    [
      'a complex attribute set to a string',
      [{ op: 'add', path: 'name', value: 'x' }],
      'invalidValue',
    ],
  ])('refuses %s', (_, operations, scimType) => {
    expect(scimTypeOf(() => patchUser(operations))).toBe(scimType);
  });

  it('refuses bodies that are not PatchOp requests', () => {
    for (const body of [
      null,
      'x',
      [],
      {},
      { Operations: [] },
      { schemas: ['other'], Operations: [{}] },
    ]) {
      expect(scimTypeOf(() => applyPatch(user(), body, USER_SCHEMA, USER_PATCHABLE))).toBe(
        'invalidValue',
      );
    }
    const tooMany = {
      Operations: Array.from({ length: 1001 }, () => ({ op: 'remove', path: 'title' })),
    };
    expect(scimTypeOf(() => applyPatch(user(), tooMany, USER_SCHEMA, USER_PATCHABLE))).toBe(
      'invalidValue',
    );
  });
});

describe('matches (value filters in memory)', () => {
  const element = { value: 'Alice@Example.org', type: 'work', primary: true, rank: 3 };
  it.each([
    ['value eq "alice@example.org"', true],
    ['value ne "alice@example.org"', false],
    ['value co "@EXAMPLE"', true],
    ['value sw "ali"', true],
    ['value ew ".org"', true],
    ['rank gt 2 and rank le 3', true],
    ['rank lt 3', false],
    ['primary eq true', true],
    ['type eq "home" or primary eq true', true],
    ['not (type eq "work")', false],
    ['display pr', false],
    ['display eq null', true],
    ['value gt 3', false],
  ])('%s is %s', (filter, expected) => {
    expect(matches(element, parseScimFilter(filter))).toBe(expected);
  });
});
