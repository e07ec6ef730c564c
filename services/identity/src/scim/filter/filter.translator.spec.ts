import { ScimFilterError } from './filter.errors.js';
import { createScimFilterTranslator, DEFAULT_MAX_PARAMETERS } from './filter.translator.js';
import { USERS_FILTER_SCHEMA } from './testing/users-filter-schema.js';

const translate = createScimFilterTranslator(USERS_FILTER_SCHEMA);

function refusal(filter: string): ScimFilterError {
  try {
    translate(filter);
  } catch (error) {
    if (error instanceof ScimFilterError) return error;
    throw error;
  }
  throw new Error(`"${filter}" was translated`);
}

describe('createScimFilterTranslator', () => {
  it('puts values in parameters only, with explicit casts', () => {
    expect(translate('userName eq "a\' OR 1=1 --"')).toEqual({
      sql: 'lower((user_name)) = lower($1::text)',
      parameters: ["a' OR 1=1 --"],
    });
    expect(translate('id eq "7" and active eq true or loginCount ge 2')).toEqual({
      sql: '(((id::text) = $1::text AND (active) = $2::boolean) OR (login_count) >= $3::numeric)',
      parameters: ['7', true, 2],
    });
  });

  it('escapes LIKE metacharacters and anchors co, sw and ew', () => {
    expect(translate('userName co "50%_\\\\x"')).toEqual({
      sql: "lower((user_name)) LIKE lower($1::text) ESCAPE '\\'",
      parameters: ['%50\\%\\_\\\\x%'],
    });
    expect(translate('userName sw "a"').parameters).toEqual(['a%']);
    expect(translate('userName ew "a"').parameters).toEqual(['%a']);
    expect(
      translate('urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber sw "A"')
        .sql,
    ).toBe("(employee_number) LIKE $1::text ESCAPE '\\'");
  });

  it('pushes not down to the leaves, where a predicate is never NULL', () => {
    expect(translate('not (title eq "x" or active eq true)').sql).toBe(
      '((lower((title)) = lower($1::text)) IS NOT TRUE AND ((active) = $2::boolean) IS NOT TRUE)',
    );
    // ne is eq turned round, and not (ne) is eq again.
    expect(translate('title ne "x"').sql).toBe('(lower((title)) = lower($1::text)) IS NOT TRUE');
    expect(translate('not (title ne "x")').sql).toBe('lower((title)) = lower($1::text)');
  });

  it('numbers placeholders from firstParameter', () => {
    expect(translate('title pr or loginCount eq 1', { firstParameter: 3 })).toEqual({
      sql: "((title) <> '' OR (login_count) = $3::numeric)",
      parameters: [1],
    });
  });

  it('caps the number of values', () => {
    const many = (n: number) =>
      Array.from({ length: n }, (_, i) => `loginCount eq ${i}`).join(' or ');
    expect(translate(many(DEFAULT_MAX_PARAMETERS)).parameters).toHaveLength(DEFAULT_MAX_PARAMETERS);
    expect(refusal(many(DEFAULT_MAX_PARAMETERS + 1)).message).toContain('more than 64 values');
    expect(() => translate(many(3), { maxParameters: 2 })).toThrow(ScimFilterError);
  });

  it.each([
    ['password eq "x"', 'is not an attribute that can be filtered on', 0],
    ['name.middleName eq "x"', 'is not an attribute', 0],
    ['urn:ietf:params:scim:schemas:core:2.0:Group:userName eq "x"', 'is not an attribute', 0],
    ['emails.display eq "x"', 'is not an attribute', 0],
    ['emails[display eq "x"]', 'is not an attribute', 7],
    ['title[value eq "x"]', 'is not an attribute', 0],
    ['name[middleName eq "x"]', 'is not an attribute', 5],
    ['emails co "x"', 'name a sub-attribute', 0],
    ['active gt true', 'is a boolean: gt does not apply', 0],
    ['emails[primary le false]', 'is a boolean: le does not apply', 7],
    ['active eq "true"', 'compare it with true or false', 0],
    ['loginCount co "1"', 'co applies to strings', 0],
    ['loginCount eq "5"', 'compare it with an integer', 0],
    ['loginCount eq 1.5', 'compare it with an integer', 0],
    ['score eq "1"', 'compare it with a number', 0],
    ['title eq 1', 'compare it with a string', 0],
    ['title gt null', 'cannot be compared with null by gt', 0],
    ['meta.lastModified gt "yesterday"', 'is a dateTime', 0],
    ['meta.lastModified gt "2024-02-30T00:00:00Z"', 'is a dateTime', 0],
    ['meta.lastModified gt "2023-02-29T00:00:00Z"', 'is a dateTime', 0],
    ['meta.lastModified gt "2024-01-01T24:00:00Z"', 'is a dateTime', 0],
    ['meta.lastModified gt "2024-01-01T00:00:00"', 'is a dateTime', 0],
    ['meta.lastModified co "2024"', 'co applies to strings', 0],
  ])('refuses %j: %s', (filter, message, position) => {
    const error = refusal(filter);
    expect(error.scimType).toBe('invalidFilter');
    expect(error.status).toBe(400);
    expect(error.message).toContain(message);
    expect(error.position).toBe(position);
  });

  it('accepts well-formed dateTimes, with fractions and offsets', () => {
    for (const value of [
      '2024-02-29T23:59:59Z',
      '2024-05-01T12:00:00.123456+02:00',
      '0001-01-01T00:00:00-14:00',
    ]) {
      expect(translate(`meta.lastModified ge "${value}"`)).toEqual({
        sql: '(updated_at) >= $1::timestamptz',
        parameters: [value],
      });
    }
  });

  it('refuses unsafe schema configuration', () => {
    expect(() =>
      createScimFilterTranslator({
        coreSchema: 'urn:x',
        attributes: {
          emails: { jsonbArray: 'emails', subAttributes: { "a'b": { type: 'string' } } },
        },
      }),
    ).toThrow('is not a plain attribute name');
  });
});
