import pg from 'pg';
import { createTestDatabase, type TestDatabase } from '@rampart/platform/testing-support';
import { ScimFilterError } from './filter.errors.js';
import { createScimFilterTranslator } from './filter.translator.js';
import { USERS_FILTER_SCHEMA, USERS_TABLE } from './testing/users-filter-schema.js';

/** Rows chosen to trip naive translations: LIKE metacharacters, quotes, backslashes, unicode. */
const USERS = [
  {
    id: 1,
    user_name: 'Alice',
    title: 'Engineer',
    active: true,
    login_count: 5,
    score: 9.5,
    family_name: 'Liddell',
    given_name: 'Alice',
    updated_at: '2024-01-01T00:00:00Z',
    employee_number: 'E-1',
    emails: [
      { value: 'alice@example.com', type: 'work', primary: true },
      { value: 'alice@home.org', type: 'home' },
    ],
  },
  {
    id: 2,
    user_name: 'bob_smith',
    title: null,
    active: false,
    login_count: 0,
    score: null,
    family_name: 'Smith',
    given_name: 'Bob',
    updated_at: '2024-07-01T12:00:00Z',
    employee_number: 'e-2',
    emails: [{ value: 'bob@example.org', type: 'work' }],
  },
  {
    id: 3,
    user_name: '100%_sure',
    title: '50% off',
    active: true,
    login_count: 12,
    score: -1.25,
    family_name: null,
    given_name: null,
    updated_at: '2025-01-01T00:00:00+02:00',
    employee_number: null,
    emails: [],
  },
  {
    id: 4,
    user_name: 'o\'brien"q',
    title: 'back\\slash',
    active: true,
    login_count: 1,
    score: 0,
    family_name: "O'Brien",
    given_name: null,
    updated_at: '2023-06-15T08:30:00Z',
    employee_number: null,
    emails: null,
  },
  {
    id: 5,
    user_name: 'zoë ユーザー 😀',
    title: '',
    active: false,
    login_count: 3,
    score: 3,
    family_name: 'Smith',
    given_name: 'Zoë',
    updated_at: '2024-03-01T00:00:00Z',
    employee_number: null,
    // `primary` stored as a string: a filter on it must read it as absent, not fail the query.
    emails: [{ value: 'ZOE@EXAMPLE.COM', type: 'Work', primary: 'yes' }],
  },
  {
    id: 6,
    user_name: 'bobXsmith',
    title: 'Engineer',
    active: true,
    login_count: 7,
    score: 100,
    family_name: null,
    given_name: null,
    updated_at: '2024-02-01T00:00:00Z',
    employee_number: null,
    emails: [{ value: 'x', type: 'other', primary: false }],
  },
  {
    id: 7,
    user_name: '100 sure',
    title: 'a_b',
    active: true,
    login_count: 2,
    score: 1,
    family_name: null,
    given_name: null,
    updated_at: '2024-02-01T00:00:00Z',
    employee_number: null,
    emails: null,
  },
];
const ALL = USERS.map((user) => user.id);
const except = (...ids: number[]) => ALL.filter((id) => !ids.includes(id));

describe('SCIM filters on PostgreSQL', () => {
  const translate = createScimFilterTranslator(USERS_FILTER_SCHEMA);
  let database: TestDatabase;
  let pool: pg.Pool;

  /** The ids of the users a filter selects, queried as the service's own role. */
  async function select(filter: string): Promise<number[]> {
    const { sql, parameters } = translate(filter);
    const result = await pool.query<{ id: number }>(
      `SELECT id FROM users WHERE ${sql} ORDER BY id`,
      [...parameters],
    );
    return result.rows.map((row) => row.id);
  }

  beforeAll(async () => {
    database = await createTestDatabase('scim_filter');
    pool = new pg.Pool({
      connectionString: database.url,
      options: `-c search_path=${database.schema}`,
      max: 2,
    });
    await pool.query(USERS_TABLE);
    for (const user of USERS) {
      await pool.query(
        `INSERT INTO users (id, user_name, title, active, login_count, score, family_name,
           given_name, updated_at, employee_number, emails)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
        [
          user.id,
          user.user_name,
          user.title,
          user.active,
          user.login_count,
          user.score,
          user.family_name,
          user.given_name,
          user.updated_at,
          user.employee_number,
          user.emails === null ? null : JSON.stringify(user.emails),
        ],
      );
    }
  });

  afterAll(async () => {
    await pool?.end();
    await database?.drop();
  });

  it.each<[string, number[]]>([
    // Case-insensitive strings (caseExact false) and case-exact ones.
    ['userName eq "alice"', [1]],
    ['USERNAME EQ "ALICE"', [1]],
    ['urn:ietf:params:scim:schemas:core:2.0:User:userName eq "Alice"', [1]],
    ['id eq "1"', [1]],
    ['urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "E-1"', [1]],
    ['urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "e-1"', []],
    ['urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber sw "e"', [2]],
    // LIKE metacharacters and the escape character match literally.
    ['userName sw "bob_"', [2]],
    ['userName co "%"', [3]],
    ['userName sw "100%"', [3]],
    ['userName co "0%_s"', [3]],
    ['title co "_"', [7]],
    ['title co "\\\\"', [4]],
    ['title ew "\\\\slash"', [4]],
    ['userName co ""', ALL],
    // Quotes and unicode.
    ['userName eq "o\'brien\\"q"', [4]],
    ['name.familyName eq "o\'brien"', [4]],
    ['userName co "ユーザー"', [5]],
    ['userName ew "\\ud83d\\ude00"', [5]],
    ['name.givenName eq "Zoë"', [5]],
    // Ordering, numbers, booleans, dateTimes (compared as instants, whatever the offset).
    ['loginCount gt 5', [3, 6]],
    ['loginCount ge 5', [1, 3, 6]],
    ['loginCount lt 2', [2, 4]],
    ['loginCount le 2', [2, 4, 7]],
    ['loginCount ne 0', except(2)],
    ['score lt 0', [3]],
    ['score ge 9.5', [1, 6]],
    ['score eq 1e2', [6]],
    ['active eq true', [1, 3, 4, 6, 7]],
    ['active eq false', [2, 5]],
    ['meta.lastModified gt "2024-06-30T00:00:00Z"', [2, 3]],
    ['meta.lastModified lt "2024-12-31T22:00:00Z"', except(3)],
    ['meta.lastModified le "2024-12-31T22:00:00.000Z"', ALL],
    ['meta.lastModified eq "2024-07-01T14:00:00+02:00"', [2]],
    ['userName gt "b"', [2, 4, 5, 6]],
    // Presence: non-empty strings; absent or empty fails pr.
    ['title pr', [1, 3, 4, 6, 7]],
    ['not (title pr)', [2, 5]],
    ['score pr', except(2)],
    // ne and not are true for absent values, and not (ne) is eq.
    ['title ne "engineer"', except(1, 6)],
    ['not (title eq "Engineer")', except(1, 6)],
    ['not (title ne "Engineer")', [1, 6]],
    ['title eq null', [2]],
    ['title ne null', except(2)],
    // Precedence and grouping.
    ['userName eq "alice" or userName eq "bob_smith" and active eq true', [1]],
    ['(userName eq "alice" or userName eq "bob_smith") and active eq false', [2]],
    ['not (active eq true) or loginCount gt 10', [2, 3, 5]],
    ['not (active eq true or loginCount gt 10)', [2, 5]],
    ['not (not (userName eq "alice"))', [1]],
    // Multi-valued emails: any element may match.
    ['emails.value co "example.com"', [1, 5]],
    ['emails.type eq "work"', [1, 2, 5]],
    ['emails[type eq "work" and value ew ".org"]', [2]],
    ['emails[type eq "work"] and emails.value ew ".org"', [1, 2]],
    ['emails[primary eq true]', [1]],
    ['emails[primary eq false]', [6]],
    ['emails[not (primary eq true)]', [1, 2, 5, 6]],
    ['not (emails[primary eq true])', except(1)],
    ['emails.value ne "alice@example.com"', [1, 2, 5, 6]],
    ['not (emails.value eq "alice@example.com")', except(1)],
    ['emails pr', [1, 2, 5, 6]],
    ['not (emails pr)', [3, 4, 7]],
    ['emails.primary pr', [1, 6]],
    ['name[familyName eq "smith" and givenName sw "b"]', [2]],
    ['not (name[familyName eq "smith"])', except(2, 5)],
  ])('%s', async (filter, expected) => {
    expect(await select(filter)).toEqual(expected);
  });

  it('treats injection attempts as plain values: they match nothing and break nothing', async () => {
    const attempts = [
      `userName eq "x' OR '1'='1"`,
      `userName eq "alice'; DROP TABLE users; --"`,
      `userName co "'); DELETE FROM users; --"`,
      `title sw "\\\\'' OR TRUE --"`,
      `emails[value eq "x' OR 1=1) OR EXISTS (SELECT 1"]`,
      `emails.value ew "') OR ('1'='1"`,
      `name.familyName eq "O''Brien"`,
    ];
    for (const filter of attempts) {
      expect({ filter, ids: await select(filter) }).toEqual({ filter, ids: [] });
    }
    const count = await pool.query<{ count: string }>('SELECT count(*) FROM users');
    expect(count.rows[0]?.count).toBe(String(USERS.length));
    // An attribute name cannot carry SQL either: it is checked against the whitelist.
    for (const filter of ['userName;DROP eq "x"', '"user_name" eq "x"', 'user_name eq "x"']) {
      expect(() => translate(filter)).toThrow(ScimFilterError);
    }
  });
});
