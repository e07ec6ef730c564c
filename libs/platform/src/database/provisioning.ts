import { randomBytes } from 'node:crypto';
import pg from 'pg';

const IDENTIFIER = /^[a-z_][a-z0-9_]*$/;

function identifier(name: string): string {
  if (!IDENTIFIER.test(name)) throw new Error(`not a safe SQL identifier: ${name}`);
  return `"${name}"`;
}

export interface ServiceDatabase {
  schema: string;
  role: string;
  password: string;
}

/**
 * Gives one service its own schema and its own login role in a shared database (all-in-one and
 * tests). The role owns its schema and nothing else; PUBLIC loses CREATE on `public` and CONNECT
 * is granted per role, so a service cannot read or write another service's tables.
 * Runs as an administrator; safe to repeat (the password is reset to the one given).
 */
export async function provisionServiceDatabase(
  adminUrl: string,
  database: string,
  service: { schema: string; role: string; password?: string },
): Promise<ServiceDatabase> {
  const password = service.password ?? randomBytes(24).toString('base64url');
  const client = new pg.Client({ connectionString: adminUrl });
  client.on('error', () => undefined); // a dropped connection surfaces as a failed query
  await client.connect();
  try {
    const role = identifier(service.role);
    const schema = identifier(service.schema);
    const db = identifier(database);
    const exists = await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [service.role]);
    // Passwords cannot be bound parameters in DDL; they are base64url, so quoting is safe.
    const literal = `'${password.replace(/'/g, "''")}'`;
    if (exists.rowCount === 0) {
      await client.query(
        `CREATE ROLE ${role} LOGIN PASSWORD ${literal} NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION`,
      );
    } else {
      await client.query(
        `ALTER ROLE ${role} WITH LOGIN PASSWORD ${literal} NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS`,
      );
    }
    await client.query(`REVOKE ALL ON DATABASE ${db} FROM PUBLIC`);
    await client.query(`GRANT CONNECT, TEMPORARY ON DATABASE ${db} TO ${role}`);
    await client.query(`REVOKE CREATE ON SCHEMA public FROM PUBLIC`);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema} AUTHORIZATION ${role}`);
    await client.query(`REVOKE ALL ON SCHEMA ${schema} FROM PUBLIC`);
    return { schema: service.schema, role: service.role, password };
  } finally {
    await client.end();
  }
}

/** Creates a database if it does not exist (CREATE DATABASE cannot run in a transaction). */
export async function ensureDatabase(adminUrl: string, database: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  client.on('error', () => undefined); // a dropped connection surfaces as a failed query
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (found.rowCount === 0) await client.query(`CREATE DATABASE ${identifier(database)}`);
  } finally {
    await client.end();
  }
}

/** `url` with its database and credentials replaced. */
export function withCredentials(
  url: string,
  credentials: { user: string; password: string; database?: string },
): string {
  const parsed = new URL(url);
  parsed.username = encodeURIComponent(credentials.user);
  parsed.password = encodeURIComponent(credentials.password);
  if (credentials.database) parsed.pathname = `/${credentials.database}`;
  return parsed.toString();
}
