import type { FilterNode } from './ast.js';
import { ScimFilterError } from './filter.errors.js';
import { parseScimFilter, SCIM_FILTER_LIMITS } from './filter.parser.js';

/** A compact rendering of a tree, so that precedence tests read like the filters they check. */
function show(node: FilterNode): string {
  switch (node.kind) {
    case 'and':
    case 'or':
      return `(${show(node.left)} ${node.kind} ${show(node.right)})`;
    case 'not':
      return `not ${show(node.filter)}`;
    case 'present':
      return `${pathOf(node.path)} pr`;
    case 'compare':
      return `${pathOf(node.path)} ${node.operator} ${JSON.stringify(node.value)}`;
    case 'valuePath':
      return `${pathOf(node.path)}[${show(node.filter)}]`;
  }
}

function pathOf(path: { schema?: string; attribute: string; subAttribute?: string }): string {
  const name = path.subAttribute ? `${path.attribute}.${path.subAttribute}` : path.attribute;
  return path.schema ? `${path.schema}:${name}` : name;
}

function parseError(filter: string): ScimFilterError {
  try {
    parseScimFilter(filter);
  } catch (error) {
    if (error instanceof ScimFilterError) return error;
    throw error;
  }
  throw new Error(`"${filter}" parsed`);
}

describe('parseScimFilter', () => {
  it('parses every comparison operator and pr, case-insensitively', () => {
    for (const operator of ['eq', 'ne', 'co', 'sw', 'ew', 'gt', 'ge', 'lt', 'le']) {
      expect(parseScimFilter(`title ${operator} "x"`)).toMatchObject({
        kind: 'compare',
        operator,
        path: { attribute: 'title', position: 0 },
        value: 'x',
      });
      expect(parseScimFilter(`title ${operator.toUpperCase()} "x"`)).toMatchObject({ operator });
    }
    expect(parseScimFilter('title PR')).toEqual({
      kind: 'present',
      path: { attribute: 'title', position: 0 },
    });
  });

  it('reads the RFC 7644 examples', () => {
    const examples: [string, string][] = [
      ['userName Eq "john"', 'userName eq "john"'],
      ['name.familyName co "O\'Malley"', 'name.familyName co "O\'Malley"'],
      [
        'urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J"',
        'urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J"',
      ],
      [
        'meta.lastModified gt "2011-05-13T04:42:34Z"',
        'meta.lastModified gt "2011-05-13T04:42:34Z"',
      ],
      ['title pr and userType eq "Employee"', '(title pr and userType eq "Employee")'],
      ['title pr or userType eq "Intern"', '(title pr or userType eq "Intern")'],
      [
        'schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"',
        'schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"',
      ],
      [
        'userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")',
        '(userType eq "Employee" and (emails co "example.com" or emails.value co "example.org"))',
      ],
      [
        'userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")',
        '(userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org"))',
      ],
      [
        'userType eq "Employee" and emails[type eq "work" and value co "@example.com"]',
        '(userType eq "Employee" and emails[(type eq "work" and value co "@example.com")])',
      ],
      [
        'emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]',
        '(emails[(type eq "work" and value co "@example.com")] or ims[(type eq "xmpp" and value co "@foo.com")])',
      ],
      [
        'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "26118915-6090-4610-87e4-49d8ca9f808d"',
        'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "26118915-6090-4610-87e4-49d8ca9f808d"',
      ],
    ];
    for (const [filter, expected] of examples) expect(show(parseScimFilter(filter))).toBe(expected);
  });

  it('binds not tighter than and, and tighter than or, grouping to the left', () => {
    expect(show(parseScimFilter('a pr or b pr and c pr'))).toBe('(a pr or (b pr and c pr))');
    expect(show(parseScimFilter('a pr and b pr or c pr'))).toBe('((a pr and b pr) or c pr)');
    expect(show(parseScimFilter('a pr or b pr or c pr'))).toBe('((a pr or b pr) or c pr)');
    expect(show(parseScimFilter('a pr and b pr and c pr'))).toBe('((a pr and b pr) and c pr)');
    expect(show(parseScimFilter('not (a pr) and b pr'))).toBe('(not a pr and b pr)');
    expect(show(parseScimFilter('NOT (a pr or b pr) OR c pr'))).toBe(
      '(not (a pr or b pr) or c pr)',
    );
  });

  it('lets parentheses override precedence and tolerates extra whitespace', () => {
    expect(show(parseScimFilter('(a pr or b pr) and c pr'))).toBe('((a pr or b pr) and c pr)');
    expect(show(parseScimFilter('a pr and (b pr or c pr)'))).toBe('(a pr and (b pr or c pr))');
    expect(show(parseScimFilter(' ( ( a  pr ) )\t and\n(b eq 1) '))).toBe('(a pr and b eq 1)');
    expect(show(parseScimFilter('not(a pr)'))).toBe('not a pr');
  });

  it('reads JSON strings with every escape, numbers, booleans and null', () => {
    const value = (literal: string) =>
      (parseScimFilter(`x eq ${literal}`) as { value: unknown }).value;
    expect(value(String.raw`"a\"b\\c\/d\b\f\n\r\t\u00e9\ud83d\ude00"`)).toBe(
      'a"b\\c/d\b\f\n\r\té😀',
    );
    expect(value('"héllo 😀 ユーザー"')).toBe('héllo 😀 ユーザー');
    expect(value('""')).toBe('');
    expect(value('0')).toBe(0);
    expect(value('-12.5e2')).toBe(-1250);
    expect(value('3.25E-1')).toBe(0.325);
    expect(value('true')).toBe(true);
    expect(value('False')).toBe(false);
    expect(value('null')).toBe(null);
  });

  it('reads schema prefixes, sub-attributes and value paths', () => {
    expect(parseScimFilter('urn:ietf:params:scim:schemas:core:2.0:User:name.givenName pr')).toEqual(
      {
        kind: 'present',
        path: {
          schema: 'urn:ietf:params:scim:schemas:core:2.0:User',
          attribute: 'name',
          subAttribute: 'givenName',
          position: 0,
        },
      },
    );
    expect(parseScimFilter('emails[ type eq "work" ]')).toEqual({
      kind: 'valuePath',
      path: { attribute: 'emails', position: 0 },
      filter: {
        kind: 'compare',
        operator: 'eq',
        path: { attribute: 'type', position: 8 },
        value: 'work',
      },
    });
    expect(show(parseScimFilter('members[not (value eq "1")]'))).toBe('members[not value eq "1"]');
    expect(show(parseScimFilter('members.$ref pr'))).toBe('members.$ref pr');
  });

  it('takes keywords used as attribute names for what they are', () => {
    expect(show(parseScimFilter('not eq "x"'))).toBe('not eq "x"');
    expect(show(parseScimFilter('and pr and or pr'))).toBe('(and pr and or pr)');
    expect(show(parseScimFilter('order eq 1'))).toBe('order eq 1');
  });

  it.each([
    ['', 'The filter is empty', 0],
    ['   ', 'The filter is empty', 3],
    ['userName', 'Expected an operator', 8],
    ['userName equals "x"', 'Expected an operator', 9],
    ['userName eq', 'Expected a value', 11],
    ['userName eq john', 'Expected a value', 12],
    ['userName eq "john', 'Unterminated string', 12],
    ['userName eq "a\\x"', 'Invalid escape sequence', 14],
    ['userName eq "a\\u12"', 'Invalid escape sequence', 14],
    ['userName eq "a\nb"', 'Control characters must be escaped', 14],
    ['userName eq "a\\u0000"', 'Strings cannot contain NUL', 12],
    ['userName eq "\\ud800"', 'unpaired surrogates', 12],
    ['x eq 01', 'Invalid number', 5],
    ['x eq 1.', 'Invalid number', 5],
    ['x eq 1e999', 'out of range', 5],
    ['x eq 12abc', 'Invalid number', 5],
    ['userName eq "a" and', 'Expected an attribute name', 19],
    ['userName eq "a" xor b pr', 'Unexpected "xor b pr"', 16],
    ['(userName pr', 'Expected ")"', 12],
    ['userName pr)', 'Unexpected ")"', 11],
    ['not userName pr', 'Expected an operator', 4],
    ['emails[type eq "work"', 'Expected "]"', 21],
    ['emails[type[value pr]]', 'cannot be nested', 11],
    ['emails[emails.type pr]', 'by its bare name', 7],
    ['name.givenName[value pr]', 'not a sub-attribute', 14],
    ['a.b.c pr', 'is not an attribute path', 0],
    ['1abc pr', 'is not an attribute path', 0],
    ['x eq "a" and 9 pr', 'is not an attribute path', 13],
    ['foo:bar pr', 'is not a schema URN', 0],
    ['userName eq "x" "y"', 'Unexpected', 16],
  ])('refuses %j: %s at %i', (filter, message, position) => {
    const error = parseError(filter);
    expect(error.scimType).toBe('invalidFilter');
    expect(error.status).toBe(400);
    expect(error.position).toBe(position);
    expect(error.message).toContain(message);
    expect(error.message).toContain(`at position ${position}`);
    expect(error.extensions).toEqual({ scimType: 'invalidFilter', position });
  });

  it('refuses filters longer than the limit before reading them', () => {
    const atLimit = `x eq "${'a'.repeat(SCIM_FILTER_LIMITS.maxLength - 7)}"`;
    expect(atLimit).toHaveLength(SCIM_FILTER_LIMITS.maxLength);
    expect(parseScimFilter(atLimit)).toMatchObject({ kind: 'compare' });
    const error = parseError(`${atLimit} `);
    expect(error.scimType).toBe('invalidFilter');
    expect(error.message).toContain('longer than 4096');
  });

  it('refuses nesting deeper than the limit, whatever nests', () => {
    const depth = SCIM_FILTER_LIMITS.maxDepth;
    const parens = (n: number) => `${'('.repeat(n)}a pr${')'.repeat(n)}`;
    expect(parseScimFilter(parens(depth))).toMatchObject({ kind: 'present' });
    expect(parseError(parens(depth + 1)).message).toContain('nests deeper than 32');
    const nots = (n: number) => `${'not ('.repeat(n)}a pr${')'.repeat(n)}`;
    expect(parseScimFilter(nots(depth))).toMatchObject({ kind: 'not' });
    expect(parseError(nots(depth + 1)).position).toBe((depth + 1) * 5 - 1);
    expect(parseError(`emails[${parens(depth)}]`).message).toContain('nests deeper');
    // Long flat chains are loops, not recursion: fine within the length limit.
    const chain = Array.from({ length: 300 }, (_, i) => `a${i} pr`).join(' and ');
    expect(show(parseScimFilter(chain))).toMatch(/^\(+a0 pr and a1 pr\)/);
  });
});
