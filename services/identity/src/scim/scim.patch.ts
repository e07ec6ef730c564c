import { parseScimFilter, ScimFilterError, type FilterNode } from './filter/index.js';
import { invalidPath, invalidValue, noTarget } from './scim.errors.js';
import { isObject, member } from './scim.resource.js';

export const PATCH_OP_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
/** Operations in one PATCH request. */
export const MAX_PATCH_OPERATIONS = 1000;

/** The writable attributes of a resource type, keyed by lower-case name. */
export type PatchableAttributes = Readonly<
  Record<string, { name: string; kind: 'simple' | 'complex' | 'multi' }>
>;

/** A PATCH path (RFC 7644 section 3.5.2): `attr`, `attr.sub`, `attr[filter]`, `attr[filter].sub`. */
interface PatchPath {
  attribute: string;
  kind: 'simple' | 'complex' | 'multi';
  filter?: FilterNode;
  subAttribute?: string;
}

interface Operation {
  op: 'add' | 'remove' | 'replace';
  /** Undefined: no path. Null: a path naming something this server does not store. */
  path?: PatchPath | null;
  value?: unknown;
}

type Document = Record<string, unknown>;

const ATTRIBUTE_NAME = /^[A-Za-z][\w-]*$/;
const SUB_ATTRIBUTE_NAME = /^(?:\$ref|[A-Za-z][\w-]*)$/;

/** Splits `attr`, `attr.sub`, `attr[filter]` or `attr[filter].sub` into its parts, or undefined. */
function splitPath(
  path: string,
): { name: string; filterText?: string; subAttribute?: string } | undefined {
  let name = path;
  let filterText: string | undefined;
  let rest = '';
  const open = path.indexOf('[');
  if (open >= 0) {
    const close = path.lastIndexOf(']');
    if (close < open) return undefined;
    name = path.slice(0, open);
    filterText = path.slice(open + 1, close);
    rest = path.slice(close + 1);
  } else if (path.includes('.')) {
    name = path.slice(0, path.indexOf('.'));
    rest = path.slice(path.indexOf('.'));
  }
  if (!ATTRIBUTE_NAME.test(name)) return undefined;
  if (rest === '') return { name, ...(filterText === undefined ? {} : { filterText }) };
  const subAttribute = rest.slice(1);
  if (!rest.startsWith('.') || !SUB_ATTRIBUTE_NAME.test(subAttribute)) return undefined;
  return { name, ...(filterText === undefined ? {} : { filterText }), subAttribute };
}

/**
 * Applies a SCIM PATCH request to a resource's writable attributes, as plain JSON, and returns
 * the patched copy. The caller validates the result as it would a PUT body and stores it, so
 * PATCH and PUT share one validation and one write path.
 *
 * Attributes this server does not store (extension schemas, unknown names) are ignored, as they
 * are on POST and PUT: provisioning clients send their whole attribute mapping. Value paths
 * (`members[value eq "..."]`, `emails[type eq "work"].value`) filter elements in memory with the
 * SCIM filter parser; `remove` of `members` with a value list (Azure AD's form) removes those
 * members; booleans written as `"True"`/`"False"` strings (also Azure AD) are left for the
 * resource's validation to accept.
 */
export function applyPatch(
  document: Document,
  body: unknown,
  coreSchema: string,
  attributes: PatchableAttributes,
): Document {
  const result = structuredClone(document);
  for (const operation of readOperations(body, coreSchema, attributes)) {
    apply(result, operation, coreSchema, attributes);
  }
  return result;
}

function readOperations(
  body: unknown,
  coreSchema: string,
  attributes: PatchableAttributes,
): Operation[] {
  if (!isObject(body)) throw invalidValue('The body must be a SCIM PatchOp object.');
  const schemas = member(body, 'schemas');
  if (
    schemas !== undefined &&
    !(Array.isArray(schemas) && schemas.some((schema) => schema === PATCH_OP_SCHEMA))
  ) {
    throw invalidValue(`"schemas" must contain ${PATCH_OP_SCHEMA}.`);
  }
  const operations = member(body, 'Operations');
  if (!Array.isArray(operations) || operations.length === 0) {
    throw invalidValue('"Operations" must be a non-empty array.');
  }
  if (operations.length > MAX_PATCH_OPERATIONS) {
    throw invalidValue(`At most ${MAX_PATCH_OPERATIONS} operations per request.`);
  }
  return operations.map((operation, index) => {
    if (!isObject(operation)) throw invalidValue(`Operations[${index}] must be an object.`);
    const op = member(operation, 'op');
    const kind = typeof op === 'string' ? op.toLowerCase() : undefined;
    if (kind !== 'add' && kind !== 'remove' && kind !== 'replace') {
      throw invalidValue(`Operations[${index}].op must be "add", "remove" or "replace".`);
    }
    const path = member(operation, 'path');
    if (path !== undefined && typeof path !== 'string') {
      throw invalidPath(`Operations[${index}].path must be a string.`);
    }
    const value = member(operation, 'value');
    if (kind !== 'remove' && value === undefined) {
      throw invalidValue(`Operations[${index}] (${kind}) needs a value.`);
    }
    if (kind === 'remove' && (path === undefined || path.trim() === '')) {
      throw noTarget(`Operations[${index}] (remove) needs a path.`);
    }
    return {
      op: kind,
      ...(path === undefined || path.trim() === ''
        ? {}
        : { path: parsePath(path, coreSchema, attributes) }),
      ...(value === undefined ? {} : { value }),
    };
  });
}

/** Parses a path; null when it names an attribute this server does not store. */
function parsePath(
  text: string,
  coreSchema: string,
  attributes: PatchableAttributes,
): PatchPath | null {
  let path = text.trim();
  if (/^urn:/i.test(path)) {
    const prefix = `${coreSchema}:`;
    if (!path.toLowerCase().startsWith(prefix.toLowerCase())) return null; // an extension schema
    path = path.slice(prefix.length);
  }
  const parts = splitPath(path);
  if (!parts) throw invalidPath(`"${text}" is not a valid attribute path.`);
  const { name, filterText, subAttribute } = parts;
  const attribute = attributes[name.toLowerCase()];
  if (!attribute) return null;
  let filter: FilterNode | undefined;
  if (filterText !== undefined) {
    if (attribute.kind !== 'multi') {
      throw invalidPath(`"${attribute.name}" is not multi-valued: it takes no [filter].`);
    }
    try {
      filter = parseScimFilter(filterText);
    } catch (error) {
      if (error instanceof ScimFilterError) {
        throw invalidPath(`"${text}": ${error.message}`);
      }
      throw error;
    }
  }
  if (subAttribute !== undefined && attribute.kind === 'simple') {
    throw invalidPath(`"${attribute.name}" has no sub-attributes.`);
  }
  return {
    attribute: attribute.name,
    kind: attribute.kind,
    ...(filter ? { filter } : {}),
    ...(subAttribute === undefined ? {} : { subAttribute }),
  };
}

function apply(
  document: Document,
  operation: Operation,
  coreSchema: string,
  attributes: PatchableAttributes,
): void {
  const { op, path, value } = operation;
  if (path === null) return;
  if (path === undefined) {
    // No path: the value is an object of attributes (or of paths: Azure AD sends "name.givenName").
    if (!isObject(value)) throw invalidValue(`${op} without a path needs an object value.`);
    for (const [key, inner] of Object.entries(value)) {
      if (key.toLowerCase() === coreSchema.toLowerCase() && isObject(inner)) {
        apply(document, { op, value: inner }, coreSchema, attributes);
        continue;
      }
      const innerPath = parsePath(key, coreSchema, attributes);
      if (innerPath) applyAt(document, op, innerPath, inner);
    }
    return;
  }
  applyAt(document, op, path, value);
}

function applyAt(document: Document, op: Operation['op'], path: PatchPath, value: unknown): void {
  const name = path.attribute;
  if (path.kind === 'simple') {
    if (op === 'remove') delete document[name];
    else document[name] = value;
    return;
  }
  if (path.kind === 'complex') {
    const current = isObject(document[name]) ? (document[name] as Document) : {};
    if (path.subAttribute !== undefined) {
      if (op === 'remove') delete current[path.subAttribute];
      else current[path.subAttribute] = value;
      document[name] = current;
    } else if (op === 'remove') {
      delete document[name];
    } else {
      // add and replace on a complex attribute set the sub-attributes given, keeping the others.
      if (!isObject(value)) throw invalidValue(`"${name}" takes an object.`);
      document[name] = { ...current, ...value };
    }
    return;
  }
  const elements = Array.isArray(document[name]) ? (document[name] as unknown[]) : [];
  const selected = (element: unknown) =>
    path.filter === undefined || (isObject(element) && matches(element, path.filter));
  if (path.filter !== undefined || path.subAttribute !== undefined) {
    const targets = elements.filter(selected);
    if (targets.length === 0 && op !== 'remove') {
      throw noTarget(`No element of "${name}" matches the path's filter.`);
    }
    if (path.subAttribute !== undefined) {
      for (const target of targets) {
        if (!isObject(target)) continue;
        if (op === 'remove') delete target[path.subAttribute];
        else target[path.subAttribute] = value;
      }
    } else if (op === 'remove') {
      document[name] = elements.filter((element) => !selected(element));
    } else {
      if (!isObject(value)) throw invalidValue(`An element of "${name}" must be an object.`);
      document[name] = elements.map((element) =>
        selected(element) ? { ...(element as Document), ...value } : element,
      );
    }
    return;
  }
  const values: unknown[] =
    value === undefined ? [] : Array.isArray(value) ? (value as unknown[]) : [value];
  if (op === 'remove') {
    // With a value list (Azure AD: {"op":"remove","path":"members","value":[{"value":"id"}]}),
    // only those elements; without, the whole attribute.
    if (value === undefined) {
      delete document[name];
      return;
    }
    const removed = new Set(values.map(valueKey).filter((key) => key !== undefined));
    document[name] = elements.filter((element) => !removed.has(valueKey(element) ?? ''));
    return;
  }
  document[name] = op === 'add' ? [...elements, ...withoutOtherPrimary(elements, values)] : values;
}

/**
 * Adding a value marked primary takes the mark from the others (RFC 7643 section 2.4: at most
 * one primary value), so that `add emails [{..., primary: true}]` makes the new address primary.
 */
function withoutOtherPrimary(elements: unknown[], added: unknown[]): unknown[] {
  if (added.some((value) => isObject(value) && member(value, 'primary') === true)) {
    for (const element of elements) {
      if (isObject(element)) {
        for (const key of Object.keys(element)) {
          if (key.toLowerCase() === 'primary') element[key] = false;
        }
      }
    }
  }
  return added;
}

/** The `value` sub-attribute of an element, compared ignoring case (ids, addresses). */
function valueKey(element: unknown): string | undefined {
  const value = isObject(element) ? member(element, 'value') : undefined;
  return typeof value === 'string' ? value.toLowerCase() : undefined;
}

/** Evaluates a value filter on one element, in memory, with SCIM's case-insensitive strings. */
export function matches(element: Document, filter: FilterNode): boolean {
  switch (filter.kind) {
    case 'and':
      return matches(element, filter.left) && matches(element, filter.right);
    case 'or':
      return matches(element, filter.left) || matches(element, filter.right);
    case 'not':
      return !matches(element, filter.filter);
    case 'valuePath':
      throw invalidPath('A value filter cannot be nested in another.');
    case 'present': {
      const value = read(element, filter.path);
      return value !== undefined && value !== null && value !== '';
    }
    case 'compare': {
      const actual = read(element, filter.path);
      const expected = filter.value;
      if (filter.operator === 'eq' || filter.operator === 'ne') {
        const equal =
          expected === null
            ? actual === undefined || actual === null
            : normalise(actual) === normalise(expected);
        return filter.operator === 'eq' ? equal : !equal;
      }
      if (typeof actual !== typeof expected || actual === null || expected === null) return false;
      const left = normalise(actual);
      const right = normalise(expected);
      switch (filter.operator) {
        case 'co':
          return typeof left === 'string' && left.includes(right as string);
        case 'sw':
          return typeof left === 'string' && left.startsWith(right as string);
        case 'ew':
          return typeof left === 'string' && left.endsWith(right as string);
        case 'gt':
          return left! > right!;
        case 'ge':
          return left! >= right!;
        case 'lt':
          return left! < right!;
        case 'le':
          return left! <= right!;
      }
    }
  }
}

function read(element: Document, path: { attribute: string; subAttribute?: string }): unknown {
  const value = member(element, path.attribute);
  if (path.subAttribute === undefined) return value;
  return isObject(value) ? member(value, path.subAttribute) : undefined;
}

function normalise(value: unknown): unknown {
  return typeof value === 'string' ? value.toLowerCase() : value;
}
