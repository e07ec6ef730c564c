import { RampartError } from '@rampart/platform';

/** The SCIM `scimType` values (RFC 7644 section 3.12) a filter can be refused with. */
export type ScimFilterErrorType = 'invalidFilter' | 'invalidPath';

/**
 * A filter the server will not run: bad syntax, an attribute that cannot be filtered on, or an
 * operator that does not suit the attribute's type. A 400 whose `scimType` the SCIM endpoints
 * put into the SCIM error body; `position` is the 0-based offset in the filter text, when known.
 */
export class ScimFilterError extends RampartError {
  constructor(
    readonly scimType: ScimFilterErrorType,
    message: string,
    readonly position?: number,
  ) {
    super(
      'validation-failed',
      position === undefined ? message : `${message} (at position ${position})`,
      position === undefined ? { scimType } : { scimType, position },
    );
    this.name = 'ScimFilterError';
  }
}
