import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { normalizePassword } from './password-text.js';

const require = createRequire(import.meta.url);

/**
 * The offline list of common and breached passwords: zxcvbn's `passwords` dictionary (about 49,000
 * entries ranked by frequency in leaked password sets), shipped by the MIT-licensed npm package
 * @zxcvbn-ts/language-common as plain JSON. The package is pinned; its file is read directly so
 * that nothing of zxcvbn's estimator is loaded.
 */
async function bundledList(): Promise<string[]> {
  const packageDir = dirname(require.resolve('@zxcvbn-ts/language-common/package.json'));
  const list: unknown = JSON.parse(
    await readFile(join(packageDir, 'src', 'passwords.json'), 'utf8'),
  );
  if (!Array.isArray(list) || !list.every((entry) => typeof entry === 'string')) {
    throw new Error('@zxcvbn-ts/language-common: passwords.json is not a list of strings');
  }
  return list;
}

/** How a password is compared with the list: normalised as stored, and case folded. */
export function blocklistKey(password: string): string {
  return normalizePassword(password).toLowerCase();
}

/**
 * The blocklist as a Set of case-folded entries. Entries shorter than `minLength` are left out:
 * the length rule already refuses them, and they are a third of the list.
 */
export async function loadCommonPasswords(options: {
  minLength: number;
  /** An operator's own list, one password per line (UTF-8). */
  extraFile?: string | undefined;
}): Promise<ReadonlySet<string>> {
  const entries = await bundledList();
  if (options.extraFile !== undefined) {
    const extra = await readFile(options.extraFile, 'utf8');
    entries.push(...extra.split(/\r?\n/).filter((line) => line.length > 0));
  }
  const set = new Set<string>();
  for (const entry of entries) {
    const key = blocklistKey(entry);
    if ([...key].length >= options.minLength) set.add(key);
  }
  return set;
}
