/**
 * The largest value of a PostgreSQL `integer` column (key, policy and shared-object versions).
 * Request schemas bound numbers stored in one by it, so a larger number is a 400 that names the
 * field instead of a failed query and a 500.
 */
export const POSTGRES_INTEGER_MAX = 2_147_483_647;
