import { z } from 'zod';

/**
 * The closed taxonomy of data categories and the protection each one requires. Services label
 * every record they store with a category; the envelope client in `@rampart/platform` reads this
 * table to decide whether a record needs a subject, which kind of key wraps it and how long a data
 * key may be reused. Changing a figure here tightens or loosens every service at once.
 */
export const DATA_CATEGORIES = [
  'public',
  'internal',
  'confidential',
  'personal',
  'special-category',
] as const;

export type DataCategory = (typeof DATA_CATEGORIES)[number];

export const dataCategory = z.enum(DATA_CATEGORIES);

/** How long and how much one data key may be used before a fresh one is fetched. */
export const dataKeyCacheBounds = z.strictObject({
  /** A cached data key is not used for encryption after this long. */
  maxAgeMs: z.number().int().positive(),
  /** Records encrypted under one data key. */
  maxMessages: z.number().int().positive(),
  /** Plaintext bytes encrypted under one data key. */
  maxBytes: z.number().int().positive(),
  /**
   * How long an unwrapped data key is kept for decryption. Also how long a record stays readable
   * in a running process after its key was destroyed elsewhere (a shredded subject), unless the
   * process is told to forget the subject.
   */
  decryptMaxAgeMs: z.number().int().nonnegative(),
});

export type DataKeyCacheBounds = z.infer<typeof dataKeyCacheBounds>;

export const protectionRequirements = z.strictObject({
  /** Stable one-byte id written into envelopes; never reuse or renumber. */
  id: z.number().int().min(1).max(255),
  description: z.string(),
  /** Whether records of the category must be stored encrypted. */
  encryptAtRest: z.boolean(),
  /**
   * Whether records are bound to a data subject (tenant + subject) and wrapped by that subject's
   * own key, so destroying the key erases every record of the subject (crypto-shredding).
   */
  perSubjectKey: z.boolean(),
  /** Whether clients may keep the data end-to-end encrypted (the sharing API) instead. */
  endToEndAvailable: z.boolean(),
  /** Upper bounds for data-key reuse; a client may choose tighter ones, never looser. */
  dataKeyCache: dataKeyCacheBounds,
});

export type ProtectionRequirements = z.infer<typeof protectionRequirements>;

const MINUTE = 60_000;
const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

/**
 * Message bounds stay far below 2^32, the NIST SP 800-38D limit for AES-GCM with random 96-bit
 * IVs under one key; byte bounds limit how much one leaked data key exposes. Stricter categories
 * also keep unwrapped keys for a shorter time, so a shredded subject stops being readable sooner.
 */
export const DATA_PROTECTION = {
  public: {
    id: 1,
    description: 'Published or publishable data. Encryption is allowed but not required.',
    encryptAtRest: false,
    perSubjectKey: false,
    endToEndAvailable: false,
    dataKeyCache: {
      maxAgeMs: 15 * MINUTE,
      maxMessages: 1_000_000,
      maxBytes: 64 * GiB,
      decryptMaxAgeMs: 15 * MINUTE,
    },
  },
  internal: {
    id: 2,
    description: 'Operational data of the platform with no personal or secret content.',
    encryptAtRest: true,
    perSubjectKey: false,
    endToEndAvailable: false,
    dataKeyCache: {
      maxAgeMs: 15 * MINUTE,
      maxMessages: 1_000_000,
      maxBytes: 64 * GiB,
      decryptMaxAgeMs: 15 * MINUTE,
    },
  },
  confidential: {
    id: 3,
    description: 'Business secrets and credentials-adjacent data not tied to one person.',
    encryptAtRest: true,
    perSubjectKey: false,
    endToEndAvailable: true,
    dataKeyCache: {
      maxAgeMs: 5 * MINUTE,
      maxMessages: 100_000,
      maxBytes: 4 * GiB,
      decryptMaxAgeMs: 5 * MINUTE,
    },
  },
  personal: {
    id: 4,
    description: 'Personal data (GDPR art. 4(1)): anything relating to an identifiable person.',
    encryptAtRest: true,
    perSubjectKey: true,
    endToEndAvailable: true,
    dataKeyCache: {
      maxAgeMs: 5 * MINUTE,
      maxMessages: 10_000,
      maxBytes: 1 * GiB,
      decryptMaxAgeMs: MINUTE,
    },
  },
  'special-category': {
    id: 5,
    description:
      'Special categories of personal data (GDPR art. 9: health, biometrics, beliefs, ...).',
    encryptAtRest: true,
    perSubjectKey: true,
    endToEndAvailable: true,
    dataKeyCache: {
      maxAgeMs: MINUTE,
      maxMessages: 1_000,
      maxBytes: 64 * MiB,
      decryptMaxAgeMs: 10_000,
    },
  },
} as const satisfies Record<DataCategory, ProtectionRequirements>;

export const dataProtectionTable = z.record(dataCategory, protectionRequirements);

/** The category an envelope's category byte names, if any. */
export function dataCategoryById(id: number): DataCategory | undefined {
  return DATA_CATEGORIES.find((category) => DATA_PROTECTION[category].id === id);
}
