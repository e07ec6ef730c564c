import { describe, expect, it } from '@jest/globals';
import {
  DATA_CATEGORIES,
  DATA_PROTECTION,
  dataCategoryById,
  dataProtectionTable,
} from './data-categories.js';

describe('data categories', () => {
  it('match their own schema', () => {
    expect(() => dataProtectionTable.parse(DATA_PROTECTION)).not.toThrow();
  });

  it('have distinct envelope ids that map back to the category', () => {
    const ids = DATA_CATEGORIES.map((category) => DATA_PROTECTION[category].id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const category of DATA_CATEGORIES)
      expect(dataCategoryById(DATA_PROTECTION[category].id)).toBe(category);
    expect(dataCategoryById(0)).toBeUndefined();
  });

  it('never protect a more sensitive category less than the one before it', () => {
    for (let index = 1; index < DATA_CATEGORIES.length; index += 1) {
      const looser = DATA_PROTECTION[DATA_CATEGORIES[index - 1]!];
      const stricter = DATA_PROTECTION[DATA_CATEGORIES[index]!];
      for (const bound of ['maxAgeMs', 'maxMessages', 'maxBytes', 'decryptMaxAgeMs'] as const)
        expect(stricter.dataKeyCache[bound]).toBeLessThanOrEqual(looser.dataKeyCache[bound]);
      for (const flag of ['encryptAtRest', 'perSubjectKey', 'endToEndAvailable'] as const)
        expect(Number(stricter[flag])).toBeGreaterThanOrEqual(Number(looser[flag]));
    }
  });

  it('bind personal data to subjects and keep data keys under the AES-GCM message limit', () => {
    expect(DATA_PROTECTION.personal.perSubjectKey).toBe(true);
    expect(DATA_PROTECTION['special-category'].perSubjectKey).toBe(true);
    expect(DATA_PROTECTION.public.encryptAtRest).toBe(false);
    for (const category of DATA_CATEGORIES)
      expect(DATA_PROTECTION[category].dataKeyCache.maxMessages).toBeLessThan(2 ** 32);
  });
});
