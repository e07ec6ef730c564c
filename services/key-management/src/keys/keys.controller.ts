import { Body, Controller, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { SERVICE_NAMES, type KeyOperation } from '@rampart/contracts';
import {
  AllowAccessTokens,
  AllowWorkloads,
  CurrentPrincipal,
  describePrincipal,
  parseRequest,
  RampartError,
  type Principal,
} from '@rampart/platform';
import {
  batchDecryptRequest,
  batchEncryptRequest,
  cancelDestructionRequest,
  createKeyRequest,
  decryptRequest,
  encryptRequest,
  generateDataKeyRequest,
  keyName,
  listKeysQuery,
  macRequest,
  rotateRequest,
  scheduleDestructionRequest,
  signRequest,
  updateKeyRequest,
  verifyMacRequest,
  verifyRequest,
  versionRequest,
  type KeyView,
} from './dto/keys.dto.js';
import { KeyAccess, type AuditedResult } from '../policies/key-access.js';
import { operationForbidden } from '../policies/key-policies.errors.js';
import { KeyPolicies } from '../policies/key-policies.service.js';
import { UNREACHABLE_RING } from '../policies/key-policy.js';
import { KeyAdminService } from './key-admin.service.js';
import { KeyMaterial } from './key-material.js';
import { KeysService, type BatchResult, type Ciphertext } from './keys.service.js';
import { SYSTEM_KEY_RING } from './subject-keys.service.js';

/** The most one :encrypt or batch item takes, like Cloud KMS: larger data is envelope-encrypted. */
export const MAX_PLAINTEXT_BYTES = 64 * 1024;

const fromBase64 = (value: string | undefined) => Buffer.from(value ?? '', 'base64');
const toBase64 = (bytes: Buffer) => bytes.toString('base64');

function plaintextOf(value: string): Buffer {
  const bytes = fromBase64(value);
  if (bytes.length > MAX_PLAINTEXT_BYTES) {
    throw new RampartError(
      'payload-too-large',
      `Plaintext is limited to ${MAX_PLAINTEXT_BYTES} bytes; encrypt larger data with a data key (:generateDataKey).`,
    );
  }
  return bytes;
}

/** What the audit trail records of a result: the version used, or how many items a batch held. */
const versionOf = (result: { keyVersion: number }): AuditedResult => ({
  version: result.keyVersion,
});
const itemsOf = (result: { results: BatchResult<unknown>[] }): AuditedResult => ({
  items: result.results.length,
});
const keyVersionOf = (result: KeyView): AuditedResult => ({ version: result.primaryVersion });

const ciphertextView = (result: Ciphertext) => ({
  ciphertext: toBase64(result.ciphertext),
  keyVersion: result.keyVersion,
});

/** The `{name}:{method}` of a custom method; the method follows the last colon. */
function splitResource(resource: string): { name: string; method: string } {
  const separator = resource.lastIndexOf(':');
  return {
    name: parseRequest(keyName, separator > 0 ? resource.slice(0, separator) : resource),
    method: separator > 0 ? resource.slice(separator + 1) : '',
  };
}

/**
 * `/kms/v1/keys`, with Google-style custom methods on the key resource (`{name}:encrypt`).
 * Platform workloads and holders of identity access tokens reach it; what each may do with which
 * key is the key policy's decision, taken on every call, and every call is audited.
 */
@Controller('kms/v1/keys')
@AllowWorkloads(...SERVICE_NAMES)
@AllowAccessTokens()
export class KeysController {
  constructor(
    private readonly keys: KeysService,
    private readonly admin: KeyAdminService,
    private readonly material: KeyMaterial,
    private readonly access: KeyAccess,
    private readonly policies: KeyPolicies,
  ) {}

  /**
   * Names are unique across rings: a conflict would tell a caller that a key it may not see
   * exists. It hears that only if it may `get` the key; otherwise the refusal of a `create`.
   */
  private async refuseUnlessVisible(
    error: unknown,
    caller: Principal,
    name: string,
  ): Promise<never> {
    if (!(error instanceof RampartError && error.code === 'conflict')) throw error;
    // The row cache may still remember the name as free (for up to a second): then nobody sees it.
    this.material.forget(name);
    const existing = await this.material.key(name).catch(() => undefined);
    const ring =
      existing && existing.key_ring !== SYSTEM_KEY_RING ? existing.key_ring : UNREACHABLE_RING;
    await this.policies.authorize(caller, 'get', { ring, key: name }).catch(() => {
      throw operationForbidden('create', { ring, key: name });
    });
    throw error;
  }

  /**
   * Runs `work` on key `name` through its policy and the audit trail. A key that does not exist,
   * and an internal (`system`) key, are checked against a ring nothing opens: every caller gets
   * the same 403 as for a key it may not use, so names cannot be probed and internal keys cannot
   * be touched through the API, by `kms.admin` either.
   */
  private async onKey<T>(
    principal: Principal,
    operation: KeyOperation,
    name: string,
    work: () => Promise<T>,
    audited?: (result: T) => AuditedResult,
  ): Promise<T> {
    const key = await this.material.key(name).catch((error: unknown) => {
      if (error instanceof RampartError && error.code === 'not-found') return undefined;
      throw error;
    });
    const ring = key && key.key_ring !== SYSTEM_KEY_RING ? key.key_ring : UNREACHABLE_RING;
    return this.access.perform(principal, operation, { ring, key: name }, work, audited);
  }

  @Post()
  @HttpCode(201)
  async create(@Body() body: unknown, @CurrentPrincipal() caller: Principal): Promise<KeyView> {
    const request = parseRequest(createKeyRequest, body);
    const keyRing = request.keyRing ?? (caller.kind === 'workload' ? caller.id : 'default');
    if (keyRing === SYSTEM_KEY_RING) {
      throw new RampartError('forbidden', `The caller may not create on key ring ${keyRing}.`);
    }
    return this.access.perform(
      caller,
      'create',
      { ring: keyRing, key: request.name },
      async () => {
        await this.admin
          .create(
            { ...request, keyRing, recipientKey: request.publicKey },
            describePrincipal(caller),
          )
          .catch((error: unknown) => this.refuseUnlessVisible(error, caller, request.name));
        return this.admin.describe(request.name);
      },
      keyVersionOf,
    );
  }

  @Get()
  list(@Query() query: unknown, @CurrentPrincipal() caller: Principal) {
    const { keyRing, pageSize, pageToken } = parseRequest(listKeysQuery, query);
    return this.access.perform(caller, 'get', { ring: keyRing }, () =>
      this.admin.list(keyRing, pageToken ?? '', pageSize),
    );
  }

  @Get(':name')
  get(@Param('name') name: string, @CurrentPrincipal() caller: Principal): Promise<KeyView> {
    const key = parseRequest(keyName, name);
    return this.onKey(caller, 'get', key, () => this.admin.describe(key));
  }

  @Patch(':name')
  update(
    @Param('name') name: string,
    @Body() body: unknown,
    @CurrentPrincipal() caller: Principal,
  ): Promise<KeyView> {
    const key = parseRequest(keyName, name);
    const changes = parseRequest(updateKeyRequest, body);
    return this.onKey(caller, 'update', key, () =>
      this.admin.update(key, changes, describePrincipal(caller)),
    );
  }

  /** `POST /kms/v1/keys/{name}:{method}`. */
  @Post(':resource')
  @HttpCode(200)
  async custom(
    @Param('resource') resource: string,
    @Body() body: unknown,
    @CurrentPrincipal() principal: Principal,
  ): Promise<unknown> {
    const { name, method } = splitResource(resource);
    const caller = describePrincipal(principal);
    const input = body ?? {};
    // Each method: the policy operation it needs, its work, and what the audit trail records.
    const on = <T>(
      operation: KeyOperation,
      work: () => Promise<T>,
      audited?: (result: T) => AuditedResult,
    ) => this.onKey(principal, operation, name, work, audited);
    switch (method) {
      case 'encrypt': {
        const request = parseRequest(encryptRequest, input);
        const plaintext = plaintextOf(request.plaintext);
        const associatedData = fromBase64(request.associatedData);
        return on(
          'encrypt',
          async () => ciphertextView(await this.keys.encrypt(name, plaintext, associatedData)),
          versionOf,
        );
      }
      case 'decrypt': {
        const request = parseRequest(decryptRequest, input);
        const ciphertext = fromBase64(request.ciphertext);
        const associatedData = fromBase64(request.associatedData);
        return on(
          'decrypt',
          async () => {
            const result = await this.keys.decrypt(name, ciphertext, associatedData);
            return { plaintext: toBase64(result.plaintext), keyVersion: result.keyVersion };
          },
          versionOf,
        );
      }
      case 'rewrap': {
        const request = parseRequest(decryptRequest, input);
        const ciphertext = fromBase64(request.ciphertext);
        const associatedData = fromBase64(request.associatedData);
        return on(
          'rewrap',
          async () => ciphertextView(await this.keys.rewrap(name, ciphertext, associatedData)),
          versionOf,
        );
      }
      case 'batchEncrypt': {
        const { items } = parseRequest(batchEncryptRequest, input);
        const plaintexts = items.map((item) => ({
          plaintext: plaintextOf(item.plaintext),
          associatedData: fromBase64(item.associatedData),
        }));
        // Every item uses the primary version, so nothing can fail for one item alone.
        return on(
          'encrypt',
          async () => ({
            results: (await this.keys.encryptMany(name, plaintexts)).map(ciphertextView),
          }),
          itemsOf,
        );
      }
      case 'batchDecrypt': {
        const { items } = parseRequest(batchDecryptRequest, input);
        return on(
          'decrypt',
          async () => ({
            results: await this.keys.batch(items, async (item) => {
              const result = await this.keys.decrypt(
                name,
                fromBase64(item.ciphertext),
                fromBase64(item.associatedData),
              );
              return { plaintext: toBase64(result.plaintext), keyVersion: result.keyVersion };
            }),
          }),
          itemsOf,
        );
      }
      case 'batchRewrap': {
        const { items } = parseRequest(batchDecryptRequest, input);
        return on(
          'rewrap',
          async () => ({
            results: await this.keys.batch(items, async (item) =>
              ciphertextView(
                await this.keys.rewrap(
                  name,
                  fromBase64(item.ciphertext),
                  fromBase64(item.associatedData),
                ),
              ),
            ),
          }),
          itemsOf,
        );
      }
      case 'generateDataKey': {
        const request = parseRequest(generateDataKeyRequest, input);
        const associatedData = fromBase64(request.associatedData);
        return on(
          'generateDataKey',
          async () => {
            const result = await this.keys.generateDataKey(name, associatedData);
            return { plaintext: toBase64(result.plaintext), ...ciphertextView(result) };
          },
          versionOf,
        );
      }
      case 'sign': {
        const message = plaintextOf(parseRequest(signRequest, input).message);
        return on(
          'sign',
          async () => {
            const result = await this.keys.sign(name, message);
            return { signature: toBase64(result.signature), keyVersion: result.keyVersion };
          },
          versionOf,
        );
      }
      case 'verify': {
        const request = parseRequest(verifyRequest, input);
        const message = plaintextOf(request.message);
        const signature = fromBase64(request.signature);
        return on(
          'verify',
          () => this.keys.verify(name, message, signature, request.keyVersion),
          versionOf,
        );
      }
      case 'mac': {
        const message = plaintextOf(parseRequest(macRequest, input).message);
        return on(
          'mac',
          async () => {
            const result = await this.keys.mac(name, message);
            return { mac: toBase64(result.mac), keyVersion: result.keyVersion };
          },
          versionOf,
        );
      }
      case 'verifyMac': {
        const request = parseRequest(verifyMacRequest, input);
        const message = plaintextOf(request.message);
        const mac = fromBase64(request.mac);
        return on(
          'verifyMac',
          () => this.keys.verifyMac(name, message, mac, request.keyVersion),
          versionOf,
        );
      }
      case 'rotate': {
        const request = parseRequest(rotateRequest, input);
        return on('rotate', () => this.admin.rotate(name, caller, request.publicKey), keyVersionOf);
      }
      case 'disableVersion':
      case 'enableVersion': {
        const { version } = parseRequest(versionRequest, input);
        const state = method === 'disableVersion' ? 'DISABLED' : 'ENABLED';
        return on(
          method,
          () => this.admin.setVersionState(name, version, state, caller),
          () => ({ version }),
        );
      }
      case 'scheduleDestruction': {
        const request = parseRequest(scheduleDestructionRequest, input);
        return on('scheduleDestruction', () =>
          this.admin.scheduleDestruction(name, request, caller),
        );
      }
      case 'cancelDestruction': {
        const request = parseRequest(cancelDestructionRequest, input);
        return on('cancelDestruction', () => this.admin.cancelDestruction(name, request, caller));
      }
      default:
        throw new RampartError('not-found', `Keys have no method "${method}".`);
    }
  }
}
