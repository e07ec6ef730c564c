/**
 * The typed syntax tree of a SCIM filter (RFC 7644 section 3.4.2.2). The parser produces it; the
 * translator turns it into SQL. Names are kept as written (for messages); comparisons of names
 * are case-insensitive, as the RFC requires.
 */

/** `[schema ":"] attribute ["." subAttribute]`, e.g. `name.familyName` or an extension URN path. */
export interface AttributePath {
  /** The schema URN prefix, when the path is fully qualified. */
  readonly schema?: string;
  readonly attribute: string;
  readonly subAttribute?: string;
  /** Offset of the path in the filter text, for error messages. */
  readonly position: number;
}

export const COMPARISON_OPERATORS = ['eq', 'ne', 'co', 'sw', 'ew', 'gt', 'ge', 'lt', 'le'] as const;
export type ComparisonOperator = (typeof COMPARISON_OPERATORS)[number];

/** A `compValue`: a JSON string, number, `true`, `false` or `null`. */
export type ComparisonValue = string | number | boolean | null;

export type FilterNode =
  | {
      readonly kind: 'compare';
      readonly path: AttributePath;
      readonly operator: ComparisonOperator;
      readonly value: ComparisonValue;
    }
  | { readonly kind: 'present'; readonly path: AttributePath }
  | { readonly kind: 'and' | 'or'; readonly left: FilterNode; readonly right: FilterNode }
  | { readonly kind: 'not'; readonly filter: FilterNode }
  /**
   * `emails[type eq "work"]`: the inner filter applies to one element of a (multi-valued)
   * complex attribute at a time; its paths name sub-attributes of `path`.
   */
  | { readonly kind: 'valuePath'; readonly path: AttributePath; readonly filter: FilterNode };
