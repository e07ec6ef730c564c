import { z } from 'zod';
import { dataServiceConfigSchema } from '@rampart/platform';

const pathList = z
  .string()
  .transform((list) =>
    list
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item.length > 0),
  )
  .optional();

/** Environment of the key-management service (fields; the schema below adds cross-field rules). */
export const keyManagementConfigFields = dataServiceConfigSchema.extend({
  /** The root key in a file: exactly 32 random bytes, mode 0600 (a mounted secret). */
  KMS_ROOT_KEY_FILE: z.string().min(1).optional(),
  /** Or the root key on a PKCS#11 token: the library, the token, its PIN and the key's label. */
  KMS_PKCS11_LIBRARY: z.string().min(1).optional(),
  KMS_PKCS11_SLOT: z.coerce.number().int().min(0).optional(),
  KMS_PKCS11_TOKEN_LABEL: z.string().min(1).max(32).optional(),
  /** The user PIN, in a file of mode 0600 (a trailing newline is ignored). */
  KMS_PKCS11_PIN_FILE: z.string().min(1).optional(),
  KMS_PKCS11_KEY_LABEL: z.string().min(1).optional(),
  /** Root keys of earlier generations, used only to unwrap until rotation has rewrapped everything. */
  KMS_PREVIOUS_ROOT_KEY_FILES: pathList,
  KMS_PREVIOUS_PKCS11_KEY_LABELS: pathList,
  /** Rows rewrapped per committed transaction during root rotation. */
  KMS_ROOT_ROTATION_BATCH_SIZE: z.coerce.number().int().min(1).max(10_000).default(100),
  /** Pause between rotation batches, to spare the database or the HSM. */
  KMS_ROOT_ROTATION_BATCH_DELAY_MS: z.coerce.number().int().min(0).max(60_000).default(0),
  /** Days between scheduling a key version's destruction and its erasure, unless a key says otherwise. */
  KMS_DESTRUCTION_WAITING_DAYS: z.coerce.number().int().min(1).max(30).default(7),
  /** How often scheduled rotations and destructions are looked for. */
  KMS_SCHEDULER_INTERVAL_SECONDS: z.coerce.number().int().min(1).max(3600).default(30),
});

/** Environment of the key-management service. */
export const keyManagementConfigSchema = keyManagementConfigFields.superRefine(
  (config, context) => {
    const issue = (variable: string, message: string) =>
      context.addIssue({ code: 'custom', path: [variable], message });
    const fromFile = config.KMS_ROOT_KEY_FILE !== undefined;
    const fromToken = config.KMS_PKCS11_KEY_LABEL !== undefined;
    if (fromFile === fromToken) {
      issue(
        fromFile ? 'KMS_PKCS11_KEY_LABEL' : 'KMS_ROOT_KEY_FILE',
        fromFile
          ? 'the root key comes from one source: unset KMS_PKCS11_KEY_LABEL or KMS_ROOT_KEY_FILE'
          : 'required: the root key file, or KMS_PKCS11_KEY_LABEL for a key on a PKCS#11 token',
      );
    }
    const usesToken = fromToken || (config.KMS_PREVIOUS_PKCS11_KEY_LABELS?.length ?? 0) > 0;
    const tokenSettings = [
      'KMS_PKCS11_LIBRARY',
      'KMS_PKCS11_SLOT',
      'KMS_PKCS11_TOKEN_LABEL',
      'KMS_PKCS11_PIN_FILE',
    ] as const;
    if (!usesToken) {
      for (const variable of tokenSettings) {
        if (config[variable] !== undefined) {
          issue(variable, 'set without KMS_PKCS11_KEY_LABEL or KMS_PREVIOUS_PKCS11_KEY_LABELS');
        }
      }
      return;
    }
    if (!config.KMS_PKCS11_LIBRARY) issue('KMS_PKCS11_LIBRARY', 'required for a PKCS#11 root key');
    if (!config.KMS_PKCS11_PIN_FILE)
      issue('KMS_PKCS11_PIN_FILE', 'required for a PKCS#11 root key');
    if ((config.KMS_PKCS11_SLOT === undefined) === (config.KMS_PKCS11_TOKEN_LABEL === undefined)) {
      issue(
        'KMS_PKCS11_TOKEN_LABEL',
        'set exactly one of KMS_PKCS11_TOKEN_LABEL or KMS_PKCS11_SLOT',
      );
    }
  },
);

export type KeyManagementConfig = z.infer<typeof keyManagementConfigSchema>;
