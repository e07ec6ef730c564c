import type { AttributePath, ComparisonOperator, ComparisonValue, FilterNode } from './ast.js';
import { ScimFilterError } from './filter.errors.js';
import { parseScimFilter } from './filter.parser.js';

/** The SCIM attribute types (RFC 7643 section 2.3) a filter can compare. */
export type ScimAttributeType =
  'string' | 'reference' | 'boolean' | 'decimal' | 'integer' | 'dateTime';

/** A single-valued attribute stored in (or computed from) the resource's row. */
export interface ScimColumnAttribute {
  /**
   * The SQL expression for the attribute, e.g. `user_name` or `name ->> 'familyName'`. Written
   * by us in code, never taken from a request: it is pasted into the query as is.
   */
  readonly sql: string;
  readonly type: ScimAttributeType;
  /** For strings: whether case matters. SCIM's default is false (RFC 7643 section 2.2). */
  readonly caseExact?: boolean;
}

/** A sub-attribute of the objects in a multi-valued complex attribute. */
export interface ScimSubAttribute {
  readonly type: Exclude<ScimAttributeType, 'dateTime'>;
  readonly caseExact?: boolean;
}

/**
 * A multi-valued complex attribute (`emails`, `members`) stored as a jsonb array of objects, or
 * NULL. A filter on one of its sub-attributes matches a row when any element matches.
 */
export interface ScimMultiValuedAttribute {
  /** The SQL expression of the jsonb array (trusted, as for {@link ScimColumnAttribute.sql}). */
  readonly jsonbArray: string;
  /** Keyed by the JSON member name, which is also the SCIM sub-attribute name. */
  readonly subAttributes: Readonly<Record<string, ScimSubAttribute>>;
}

/**
 * The whitelist of what a resource type can be filtered on: nothing outside it reaches SQL.
 * Attribute keys are paths as a client writes them without the core schema prefix (`userName`,
 * `name.familyName`, `meta.lastModified`) or, for extension attributes, with their schema URN
 * (`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber`). Matching is
 * case-insensitive.
 */
export interface ScimFilterSchema {
  /** The resource's core schema URN: paths prefixed with it mean the same as bare paths. */
  readonly coreSchema: string;
  readonly attributes: Readonly<Record<string, ScimColumnAttribute | ScimMultiValuedAttribute>>;
}

export interface ScimSqlFilter {
  /** A boolean SQL expression with `$n` placeholders only, for a WHERE clause. */
  readonly sql: string;
  readonly parameters: readonly (string | number | boolean)[];
}

export interface ScimFilterTranslateOptions {
  /** The number of the first placeholder, when the query has parameters before the filter's. */
  readonly firstParameter?: number;
  /** At most this many values in one filter (default {@link DEFAULT_MAX_PARAMETERS}). */
  readonly maxParameters?: number;
}

export const DEFAULT_MAX_PARAMETERS = 64;

export type ScimFilterTranslator = (
  filter: string | FilterNode,
  options?: ScimFilterTranslateOptions,
) => ScimSqlFilter;

/**
 * Builds the translator of one resource type's filters to parameterised PostgreSQL. Values are
 * only ever placeholders. A predicate is true or false, never NULL, wherever `not` can see it,
 * so that `not (title eq "x")` means exactly `title ne "x"` (a user without a title matches both).
 */
export function createScimFilterTranslator(schema: ScimFilterSchema): ScimFilterTranslator {
  const attributes = new Map<string, ScimColumnAttribute | ScimMultiValuedAttribute>();
  for (const [key, attribute] of Object.entries(schema.attributes)) {
    if ('subAttributes' in attribute) {
      for (const [name, sub] of Object.entries(attribute.subAttributes)) {
        // Sub-attribute names are pasted into the SQL as JSON keys: keep them plain.
        if (!/^[A-Za-z][A-Za-z0-9_-]*$/.test(name)) {
          throw new Error(`SCIM filter schema: "${key}.${name}" is not a plain attribute name`);
        }
        if ((sub.type as string) === 'dateTime') {
          throw new Error(
            `SCIM filter schema: "${key}.${name}": dateTime inside jsonb is unsupported`,
          );
        }
      }
    }
    attributes.set(key.toLowerCase(), attribute);
  }
  const coreSchema = schema.coreSchema.toLowerCase();
  return (filter, options = {}) => {
    const tree = typeof filter === 'string' ? parseScimFilter(filter) : filter;
    const translation = new Translation(
      attributes,
      coreSchema,
      options.firstParameter ?? 1,
      options.maxParameters ?? DEFAULT_MAX_PARAMETERS,
    );
    const sql = translation.translate(tree, false, { kind: 'resource' });
    return { sql, parameters: translation.parameters };
  };
}

/** Where attribute paths are resolved: the resource, or inside a value filter `x[...]`. */
type Scope =
  | { readonly kind: 'resource' }
  | { readonly kind: 'element'; readonly attribute: ScimMultiValuedAttribute }
  | { readonly kind: 'complex'; readonly prefix: string };

/** What a path resolved to: an SQL value, possibly per element of a jsonb array. */
interface Operand {
  readonly sql: string;
  readonly type: ScimAttributeType;
  readonly caseExact: boolean;
  /** Set when the operand is one element's member: the predicate is wrapped in EXISTS. */
  readonly array?: string;
}

/** Rows of `jsonb_array_elements` are named so: a value filter's predicates refer to it. */
const ELEMENT = 'scim_element.item';

const ORDERING: Partial<Record<ComparisonOperator, string>> = {
  gt: '>',
  ge: '>=',
  lt: '<',
  le: '<=',
};

const PARAMETER_CAST: Record<ScimAttributeType, string> = {
  string: 'text',
  reference: 'text',
  boolean: 'boolean',
  decimal: 'numeric',
  integer: 'numeric',
  dateTime: 'timestamptz',
};

class Translation {
  readonly parameters: (string | number | boolean)[] = [];

  constructor(
    private readonly attributes: ReadonlyMap<
      string,
      ScimColumnAttribute | ScimMultiValuedAttribute
    >,
    private readonly coreSchema: string,
    private readonly firstParameter: number,
    private readonly maxParameters: number,
  ) {}

  /** `negated` carries the `not`s above the node down to the leaves (De Morgan). */
  translate(node: FilterNode, negated: boolean, scope: Scope): string {
    switch (node.kind) {
      case 'and':
      case 'or': {
        const operator = (node.kind === 'and') !== negated ? 'AND' : 'OR';
        const left = this.translate(node.left, negated, scope);
        const right = this.translate(node.right, negated, scope);
        return `(${left} ${operator} ${right})`;
      }
      case 'not':
        return this.translate(node.filter, !negated, scope);
      case 'present':
      case 'compare':
        return this.leaf(node, negated, scope);
      case 'valuePath':
        return this.valuePath(node.path, node.filter, negated);
    }
  }

  private valuePath(path: AttributePath, filter: FilterNode, negated: boolean): string {
    const attribute = this.lookup(path, path.attribute);
    if (attribute && 'subAttributes' in attribute) {
      const inner = this.translate(filter, false, { kind: 'element', attribute });
      return `${negated ? 'NOT ' : ''}${exists(attribute.jsonbArray, inner)}`;
    }
    // A single-valued complex attribute: `name[givenName eq "x"]` is `name.givenName eq "x"`.
    const prefix = this.qualifiedName(path, path.attribute).toLowerCase() + '.';
    if (!attribute && [...this.attributes.keys()].some((key) => key.startsWith(prefix))) {
      return this.translate(filter, negated, { kind: 'complex', prefix });
    }
    return unknown(path);
  }

  private leaf(
    node: Extract<FilterNode, { kind: 'present' | 'compare' }>,
    negated: boolean,
    scope: Scope,
  ): string {
    const operand = this.resolve(node.path, scope, node.kind === 'present');
    if (typeof operand === 'string') {
      // `emails pr`: the array has at least one element.
      const condition = `jsonb_array_length(${operand}) > 0`;
      return negated ? `(${condition}) IS NOT TRUE` : condition;
    }
    let condition: string;
    let inverted = negated;
    if (node.kind === 'present') {
      condition =
        operand.type === 'string' || operand.type === 'reference'
          ? `${operand.sql} <> ''`
          : `${operand.sql} IS NOT NULL`;
    } else {
      // `ne` is `eq` turned round, so that it too is true for an absent value.
      condition = this.comparison(operand, node.operator, node.value, node.path);
      if (node.operator === 'ne') inverted = !inverted;
    }
    if (operand.array === undefined) return inverted ? `(${condition}) IS NOT TRUE` : condition;
    // Any element may match (RFC 7644): `not` negates the whole "any", `ne` each element.
    const elementInverted = node.kind === 'compare' && node.operator === 'ne';
    const inner = elementInverted ? `(${condition}) IS NOT TRUE` : condition;
    return `${negated ? 'NOT ' : ''}${exists(operand.array, inner)}`;
  }

  private comparison(
    operand: Operand,
    operator: ComparisonOperator,
    value: ComparisonValue,
    path: AttributePath,
  ): string {
    const refuse = (why: string): never => {
      throw new ScimFilterError('invalidFilter', `"${pathText(path)}" ${why}`, path.position);
    };
    if (value === null) {
      if (operator !== 'eq' && operator !== 'ne')
        refuse(`cannot be compared with null by ${operator}`);
      return `${operand.sql} IS NULL`;
    }
    const { type } = operand;
    const isText = type === 'string' || type === 'reference';
    if (operator === 'co' || operator === 'sw' || operator === 'ew') {
      if (!isText) refuse(`is a ${type}: ${operator} applies to strings`);
    }
    if (ORDERING[operator] !== undefined && type === 'boolean') {
      refuse(`is a boolean: ${operator} does not apply`);
    }
    checkValue(type, value, refuse);

    const caseInsensitive = isText && !operand.caseExact;
    const column = caseInsensitive ? `lower(${operand.sql})` : operand.sql;
    const placeholder = (parameter: string | number | boolean) => {
      const cast = `${this.add(parameter, path)}::${PARAMETER_CAST[type]}`;
      return caseInsensitive ? `lower(${cast})` : cast;
    };
    if (operator === 'co' || operator === 'sw' || operator === 'ew') {
      const literal = escapeLike(value as string);
      const pattern =
        operator === 'co' ? `%${literal}%` : operator === 'sw' ? `${literal}%` : `%${literal}`;
      return `${column} LIKE ${placeholder(pattern)} ESCAPE '\\'`;
    }
    return `${column} ${ORDERING[operator] ?? '='} ${placeholder(value)}`;
  }

  /**
   * The operand a path names in `scope`, or, for `present` on a multi-valued attribute itself,
   * the SQL of its array.
   */
  private resolve(path: AttributePath, scope: Scope, present: boolean): Operand | string {
    if (scope.kind === 'element') {
      const sub = findSubAttribute(scope.attribute, path.attribute);
      return sub ? elementOperand(path.attribute, sub) : unknown(path);
    }
    if (scope.kind === 'complex') {
      const attribute = this.attributes.get(scope.prefix + path.attribute.toLowerCase());
      return attribute && !('subAttributes' in attribute)
        ? columnOperand(attribute)
        : unknown(path);
    }
    const name =
      path.subAttribute === undefined ? path.attribute : `${path.attribute}.${path.subAttribute}`;
    const attribute = this.lookup(path, name);
    if (attribute && !('subAttributes' in attribute)) return columnOperand(attribute);
    if (attribute && path.subAttribute === undefined) {
      if (present) return `(${attribute.jsonbArray})`;
      throw new ScimFilterError(
        'invalidFilter',
        `"${pathText(path)}" is multi-valued and complex: name a sub-attribute, such as ${path.attribute}.value`,
        path.position,
      );
    }
    if (path.subAttribute !== undefined) {
      const parent = this.lookup(path, path.attribute);
      if (parent && 'subAttributes' in parent) {
        const sub = findSubAttribute(parent, path.subAttribute);
        if (sub) return { ...elementOperand(path.subAttribute, sub), array: parent.jsonbArray };
      }
    }
    return unknown(path);
  }

  private lookup(
    path: AttributePath,
    name: string,
  ): ScimColumnAttribute | ScimMultiValuedAttribute | undefined {
    return this.attributes.get(this.qualifiedName(path, name).toLowerCase());
  }

  /** The whitelist key of `name`: bare for the core schema, URN-prefixed for an extension. */
  private qualifiedName(path: AttributePath, name: string): string {
    if (path.schema === undefined || path.schema.toLowerCase() === this.coreSchema) return name;
    return `${path.schema}:${name}`;
  }

  private add(value: string | number | boolean, path: AttributePath): string {
    if (this.parameters.length >= this.maxParameters) {
      throw new ScimFilterError(
        'invalidFilter',
        `The filter compares with more than ${this.maxParameters} values`,
        path.position,
      );
    }
    this.parameters.push(value);
    return `$${this.firstParameter + this.parameters.length - 1}`;
  }
}

function columnOperand(attribute: ScimColumnAttribute): Operand {
  return {
    sql: `(${attribute.sql})`,
    type: attribute.type,
    caseExact: attribute.caseExact ?? false,
  };
}

/**
 * One element's member, typed: a member of another JSON type reads as NULL (absent) rather than
 * failing the query on a cast.
 */
function elementOperand(name: string, sub: ScimSubAttribute): Operand {
  const member = `${ELEMENT} -> '${name}'`;
  const jsonType =
    sub.type === 'string' || sub.type === 'reference'
      ? 'string'
      : sub.type === 'boolean'
        ? 'boolean'
        : 'number';
  const cast = jsonType === 'string' ? '' : jsonType === 'boolean' ? '::boolean' : '::numeric';
  return {
    sql: `(CASE WHEN jsonb_typeof(${member}) = '${jsonType}' THEN (${ELEMENT} ->> '${name}')${cast} END)`,
    type: sub.type,
    caseExact: sub.caseExact ?? false,
  };
}

function findSubAttribute(
  attribute: ScimMultiValuedAttribute,
  name: string,
): (ScimSubAttribute & { name: string }) | undefined {
  const lower = name.toLowerCase();
  for (const [key, sub] of Object.entries(attribute.subAttributes)) {
    if (key.toLowerCase() === lower) return { ...sub, name: key };
  }
  return undefined;
}

function exists(array: string, condition: string): string {
  return `EXISTS (SELECT 1 FROM jsonb_array_elements(${array}) AS scim_element(item) WHERE ${condition})`;
}

/** The value must suit the attribute's type: anything PostgreSQL would refuse to cast is refused here. */
function checkValue(
  type: ScimAttributeType,
  value: string | number | boolean,
  refuse: (why: string) => never,
): void {
  switch (type) {
    case 'string':
    case 'reference':
      if (typeof value !== 'string') refuse(`is a string: compare it with a string`);
      return;
    case 'boolean':
      if (typeof value !== 'boolean') refuse(`is a boolean: compare it with true or false`);
      return;
    case 'decimal':
      if (typeof value !== 'number') refuse(`is a number: compare it with a number`);
      return;
    case 'integer':
      if (typeof value !== 'number' || !Number.isInteger(value)) {
        refuse(`is an integer: compare it with an integer`);
      }
      return;
    case 'dateTime':
      if (typeof value !== 'string' || !isDateTime(value)) {
        refuse(`is a dateTime: compare it with a string such as "2024-05-01T12:00:00Z"`);
      }
      return;
  }
}

const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})/;
const FRACTION = /^\.\d{1,9}/;
const ZONE = /^(?:Z|[+-](\d{2}):(\d{2}))$/;

/** An xsd:dateTime with a zone (RFC 7643 section 2.3.5) whose fields are all in range. */
function isDateTime(value: string): boolean {
  const match = DATE_TIME.exec(value);
  if (!match) return false;
  let rest = value.slice(match[0].length);
  rest = rest.slice(FRACTION.exec(rest)?.[0].length ?? 0);
  const zone = ZONE.exec(rest);
  if (!zone) return false;
  const [year, month, day, hour, minute, second] = match.slice(1).map(Number);
  const [zoneHours = 0, zoneMinutes = 0] = zone.slice(1).map((field) => Number(field ?? 0));
  const leap = year! % 4 === 0 && (year! % 100 !== 0 || year! % 400 === 0);
  const daysInMonth = month === 2 ? (leap ? 29 : 28) : [4, 6, 9, 11].includes(month!) ? 30 : 31;
  return (
    year! >= 1 &&
    month! >= 1 &&
    month! <= 12 &&
    day! >= 1 &&
    day! <= daysInMonth &&
    hour! <= 23 &&
    minute! <= 59 &&
    second! <= 59 &&
    zoneHours <= 15 &&
    zoneMinutes <= 59
  );
}

/** `%`, `_` and the escape character itself match literally. */
function escapeLike(value: string): string {
  return value.replace(/[\\%_]/g, (char) => `\\${char}`);
}

function pathText(path: AttributePath): string {
  const name =
    path.subAttribute === undefined ? path.attribute : `${path.attribute}.${path.subAttribute}`;
  return path.schema === undefined ? name : `${path.schema}:${name}`;
}

function unknown(path: AttributePath): never {
  throw new ScimFilterError(
    'invalidFilter',
    `"${pathText(path)}" is not an attribute that can be filtered on`,
    path.position,
  );
}
