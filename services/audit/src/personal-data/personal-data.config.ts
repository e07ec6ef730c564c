import { z } from 'zod';

/** Environment variables of personal-data protection (merged into the audit config). */
export const personalDataConfigShape = {
  /**
   * The ENCRYPT_DECRYPT key in key-management (audit key ring, created on first use) that wraps
   * the pseudonym key stored in the audit database. Key-management is `AUDIT_KMS_URL`.
   */
  AUDIT_PSEUDONYM_KEY: z.string().min(1).default('audit-pseudonyms'),
};
