import { Injectable } from '@nestjs/common';
import { RampartError } from '@rampart/platform';
import { macMessage } from './key-algorithms.js';
import { KeyAdminService } from './key-admin.service.js';
import { KeyMaterial } from './key-material.js';
import { keyNotFound } from './keys.errors.js';
import { KeysService } from './keys.service.js';
import { SUBJECT_KEY_RING } from '../policies/key-policy.js';

/** Internal keys no API caller may use. */
export const SYSTEM_KEY_RING = 'system';
const PSEUDONYM_KEY = 'system.subject-pseudonyms';

/**
 * One key per (tenant, data subject), created on first use. Its name is a keyed hash of the pair,
 * so key names, ciphertext headers and events never carry a subject's identifier; destroying the
 * key makes everything encrypted under it unreadable (crypto-shredding).
 */
@Injectable()
export class SubjectKeysService {
  constructor(
    private readonly admin: KeyAdminService,
    private readonly keys: KeysService,
    private readonly material: KeyMaterial,
  ) {}

  async keyName(tenant: string, subject: string): Promise<string> {
    const pseudonyms = await this.pseudonymKey();
    // Always version 1: the name of a subject's key must never change.
    const { secret } = await this.material.version(pseudonyms, 1, () => keyNotFound(PSEUDONYM_KEY));
    const digest = macMessage(secret!, Buffer.from(`${tenant}\u0000${subject}`, 'utf8'));
    return `subject-${digest.subarray(0, 20).toString('hex')}`;
  }

  async generateDataKey(tenant: string, subject: string, associatedData: Buffer, caller: string) {
    const keyName = await this.keyName(tenant, subject);
    if (!(await this.exists(keyName))) {
      await this.admin.create(
        {
          name: keyName,
          keyRing: SUBJECT_KEY_RING,
          purpose: 'ENCRYPT_DECRYPT',
          algorithm: 'AES_256_GCM',
          subjectTenant: tenant,
        },
        caller,
        { ifAbsent: true },
      );
    }
    return { keyName, ...(await this.keys.generateDataKey(keyName, associatedData)) };
  }

  /**
   * Destroys the subject's key after the waiting period, or at once for an erasure request.
   * A subject without a key has nothing to shred.
   */
  async shred(tenant: string, subject: string, immediately: boolean, caller: string) {
    const keyName = await this.keyName(tenant, subject);
    try {
      return await this.admin.scheduleDestruction(keyName, { immediately }, caller);
    } catch (error) {
      if (error instanceof RampartError && error.code === 'not-found') {
        return { name: keyName, versions: [] };
      }
      throw error;
    }
  }

  private async exists(name: string): Promise<boolean> {
    return this.material.key(name).then(
      () => true,
      (error: unknown) => {
        if (error instanceof RampartError && error.code === 'not-found') return false;
        throw error;
      },
    );
  }

  private async pseudonymKey() {
    if (!(await this.exists(PSEUDONYM_KEY))) {
      await this.admin.create(
        { name: PSEUDONYM_KEY, keyRing: SYSTEM_KEY_RING, purpose: 'MAC', algorithm: 'HMAC_SHA256' },
        'key-management',
        { ifAbsent: true },
      );
    }
    return this.material.key(PSEUDONYM_KEY);
  }
}
