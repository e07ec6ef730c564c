import {
  COMPARISON_OPERATORS,
  type AttributePath,
  type ComparisonOperator,
  type ComparisonValue,
  type FilterNode,
} from './ast.js';
import { ScimFilterError } from './filter.errors.js';

/**
 * Bounds on what a client may send, so that a filter cannot cost more than a few microseconds to
 * parse nor recurse deep enough to exhaust the stack.
 */
export const SCIM_FILTER_LIMITS = {
  /** Characters in the filter text. */
  maxLength: 4096,
  /** Nested parentheses, `not (...)` and `[...]` together. */
  maxDepth: 32,
} as const;

/**
 * Parses a SCIM filter (RFC 7644 section 3.4.2.2) into a syntax tree. Precedence, from tightest:
 * `not`, `and`, `or`; `and` and `or` group to the left. Attribute names, operators, `and`, `or`,
 * `not` and the literals `true`, `false`, `null` are case-insensitive. Any error is a
 * {@link ScimFilterError} with `scimType: 'invalidFilter'` and the offset where parsing stopped.
 */
export function parseScimFilter(text: string): FilterNode {
  if (text.length > SCIM_FILTER_LIMITS.maxLength) {
    throw new ScimFilterError(
      'invalidFilter',
      `The filter is longer than ${SCIM_FILTER_LIMITS.maxLength} characters`,
    );
  }
  return new Parser(text).parse();
}

const WHITESPACE = /[ \t\r\n]/;
/** The characters of an attribute path or a keyword: a URN prefix brings `:` and `.` (`2.0`). */
const WORD = /[A-Za-z0-9_\-.:$]*/y;
/** RFC 7643 ATTRNAME, plus `$ref`, which RFC 7643 itself uses as a sub-attribute name. */
const ATTRIBUTE_NAME = /^(?:\$ref|[A-Za-z][A-Za-z0-9_-]*)$/;
/** `urn:<nid>:<nss>`; empty segments (`urn:a::b`) are refused separately. */
const SCHEMA_URN = /^urn:[A-Za-z0-9][A-Za-z0-9-]*:[A-Za-z0-9_.:-]+$/i;
const STRING_ESCAPE = /\\(?:["\\/bfnrt]|u[0-9A-Fa-f]{4})/y;

class Parser {
  private position = 0;
  private depth = 0;

  constructor(private readonly text: string) {}

  parse(): FilterNode {
    this.skipWhitespace();
    if (this.atEnd()) this.fail('The filter is empty');
    const node = this.parseOr(false);
    this.skipWhitespace();
    if (!this.atEnd()) this.fail(`Unexpected ${this.describeHere()}`);
    return node;
  }

  /** `or` binds loosest. */
  private parseOr(inValuePath: boolean): FilterNode {
    let left = this.parseAnd(inValuePath);
    while (this.takeKeyword('or')) {
      left = { kind: 'or', left, right: this.parseAnd(inValuePath) };
    }
    return left;
  }

  private parseAnd(inValuePath: boolean): FilterNode {
    let left = this.parseUnary(inValuePath);
    while (this.takeKeyword('and')) {
      left = { kind: 'and', left, right: this.parseUnary(inValuePath) };
    }
    return left;
  }

  /** `not (F)`, `(F)`, `attrPath pr`, `attrPath op value` or `attrPath [F]`. */
  private parseUnary(inValuePath: boolean): FilterNode {
    this.skipWhitespace();
    if (this.peek() === '(') return this.parseGroup(inValuePath);
    const start = this.position;
    if (this.takeKeyword('not')) {
      this.skipWhitespace();
      // RFC 7644: `not` always takes a parenthesised filter. Anything else means `not` was meant
      // as an attribute name (legal, if unusual), so read it again as one.
      if (this.peek() === '(') return { kind: 'not', filter: this.parseGroup(inValuePath) };
      this.position = start;
    }
    const path = this.parsePath(inValuePath);
    this.skipWhitespace();
    if (this.peek() === '[') {
      if (inValuePath) this.fail('Value filters cannot be nested');
      if (path.subAttribute !== undefined) {
        this.fail('A value filter applies to a complex attribute, not a sub-attribute');
      }
      this.enter();
      this.position += 1;
      const filter = this.parseOr(true);
      this.expect(']');
      this.leave();
      return { kind: 'valuePath', path, filter };
    }
    const operatorStart = this.position;
    const operator = this.readWord().toLowerCase();
    if (operator === 'pr') return { kind: 'present', path };
    if (!isComparisonOperator(operator)) {
      this.position = operatorStart;
      this.fail(
        `Expected an operator (${COMPARISON_OPERATORS.join(', ')}, pr) after the attribute`,
      );
    }
    return { kind: 'compare', path, operator, value: this.parseValue() };
  }

  private parseGroup(inValuePath: boolean): FilterNode {
    this.enter();
    this.expect('(');
    const node = this.parseOr(inValuePath);
    this.expect(')');
    this.leave();
    return node;
  }

  private parsePath(inValuePath: boolean): AttributePath {
    const position = this.position;
    const word = this.readWord();
    if (word === '') this.fail(`Expected an attribute name, found ${this.describeHere()}`);
    const colon = word.lastIndexOf(':');
    const schema = colon === -1 ? undefined : word.slice(0, colon);
    const names = word.slice(colon + 1).split('.');
    const [attribute = '', subAttribute, ...rest] = names;
    if (schema !== undefined && (!SCHEMA_URN.test(schema) || schema.split(':').includes(''))) {
      this.failAt(position, `"${schema}" is not a schema URN`);
    }
    if (rest.length > 0 || !names.every((name) => ATTRIBUTE_NAME.test(name))) {
      this.failAt(position, `"${word}" is not an attribute path`);
    }
    if (inValuePath && (schema !== undefined || subAttribute !== undefined)) {
      this.failAt(position, 'Inside a value filter, name a sub-attribute by its bare name');
    }
    return {
      ...(schema === undefined ? {} : { schema }),
      attribute,
      ...(subAttribute === undefined ? {} : { subAttribute }),
      position,
    };
  }

  private parseValue(): ComparisonValue {
    this.skipWhitespace();
    const char = this.peek();
    if (char === '"') return this.parseString();
    if (char === '-' || (char !== undefined && char >= '0' && char <= '9')) {
      return this.parseNumber();
    }
    const start = this.position;
    const word = this.readWord().toLowerCase();
    if (word === 'true') return true;
    if (word === 'false') return false;
    if (word === 'null') return null;
    this.position = start;
    return this.fail(
      `Expected a value (a JSON string, a number, true, false or null), found ${this.describeHere()}`,
    );
  }

  /** A JSON string: validated here character by character, then decoded by JSON.parse. */
  private parseString(): string {
    const start = this.position;
    this.position += 1;
    for (;;) {
      const char = this.peek();
      if (char === undefined) this.failAt(start, 'Unterminated string');
      if (char === '"') break;
      if (char === '\\') {
        STRING_ESCAPE.lastIndex = this.position;
        const escape = STRING_ESCAPE.exec(this.text);
        if (!escape) this.fail('Invalid escape sequence in a string');
        this.position += escape[0].length;
      } else if (char.charCodeAt(0) < 0x20) {
        this.fail('Control characters must be escaped in a string');
      } else {
        this.position += 1;
      }
    }
    this.position += 1;
    const value = JSON.parse(this.text.slice(start, this.position)) as string;
    // PostgreSQL text cannot hold NUL nor unpaired surrogates: refuse them here rather than let
    // the query fail with a server error.
    if (value.includes('\u0000')) this.failAt(start, 'Strings cannot contain NUL');
    if (!value.isWellFormed()) this.failAt(start, 'Strings cannot contain unpaired surrogates');
    return value;
  }

  /** A JSON number: `-? (0 | [1-9] digits) (. digits)? ([eE] [+-]? digits)?`. */
  private parseNumber(): number {
    const start = this.position;
    if (this.peek() === '-') this.position += 1;
    if (this.peek() === '0') this.position += 1;
    else if (this.digits() === 0) this.failAt(start, 'Invalid number');
    if (this.peek() === '.') {
      this.position += 1;
      if (this.digits() === 0) this.failAt(start, 'Invalid number');
    }
    if (this.peek() === 'e' || this.peek() === 'E') {
      this.position += 1;
      if (this.peek() === '+' || this.peek() === '-') this.position += 1;
      if (this.digits() === 0) this.failAt(start, 'Invalid number');
    }
    if (this.readWord() !== '') this.failAt(start, 'Invalid number');
    const value = Number(this.text.slice(start, this.position));
    if (!Number.isFinite(value)) this.failAt(start, 'The number is out of range');
    return value;
  }

  /** Consumes decimal digits; returns how many. */
  private digits(): number {
    const start = this.position;
    while (/[0-9]/.test(this.peek() ?? '')) this.position += 1;
    return this.position - start;
  }

  /** Consumes `keyword` (case-insensitively) if it is the next whole word. */
  private takeKeyword(keyword: string): boolean {
    this.skipWhitespace();
    const start = this.position;
    if (this.readWord().toLowerCase() === keyword) return true;
    this.position = start;
    return false;
  }

  private readWord(): string {
    WORD.lastIndex = this.position;
    const word = WORD.exec(this.text)?.[0] ?? '';
    this.position += word.length;
    return word;
  }

  private expect(char: string): void {
    this.skipWhitespace();
    if (this.peek() !== char) this.fail(`Expected "${char}", found ${this.describeHere()}`);
    this.position += 1;
  }

  private enter(): void {
    this.depth += 1;
    if (this.depth > SCIM_FILTER_LIMITS.maxDepth) {
      this.fail(`The filter nests deeper than ${SCIM_FILTER_LIMITS.maxDepth} levels`);
    }
  }

  private leave(): void {
    this.depth -= 1;
  }

  private skipWhitespace(): void {
    while (this.position < this.text.length && WHITESPACE.test(this.text[this.position]!)) {
      this.position += 1;
    }
  }

  private peek(): string | undefined {
    return this.text[this.position];
  }

  private atEnd(): boolean {
    return this.position >= this.text.length;
  }

  /** What is at the current position, briefly, for messages. */
  private describeHere(): string {
    if (this.atEnd()) return 'the end of the filter';
    return JSON.stringify(this.text.slice(this.position, this.position + 12));
  }

  private fail(message: string): never {
    return this.failAt(this.position, message);
  }

  private failAt(position: number, message: string): never {
    throw new ScimFilterError('invalidFilter', message, position);
  }
}

function isComparisonOperator(word: string): word is ComparisonOperator {
  return (COMPARISON_OPERATORS as readonly string[]).includes(word);
}
