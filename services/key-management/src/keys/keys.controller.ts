import { Body, Controller, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { SERVICE_NAMES } from '@rampart/contracts';
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
import { KeyAdminService } from './key-admin.service.js';
import { KeysService, type Ciphertext } from './keys.service.js';

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
 * key is the key policy's decision.
 */
@Controller('kms/v1/keys')
@AllowWorkloads(...SERVICE_NAMES)
@AllowAccessTokens()
export class KeysController {
  constructor(
    private readonly keys: KeysService,
    private readonly admin: KeyAdminService,
  ) {}

  @Post()
  @HttpCode(201)
  async create(@Body() body: unknown, @CurrentPrincipal() caller: Principal): Promise<KeyView> {
    const request = parseRequest(createKeyRequest, body);
    const keyRing = request.keyRing ?? (caller.kind === 'workload' ? caller.id : 'default');
    await this.admin.create(
      { ...request, keyRing, recipientKey: request.publicKey },
      describePrincipal(caller),
    );
    return this.admin.describe(request.name);
  }

  @Get()
  list(@Query() query: unknown) {
    const { keyRing, pageSize, pageToken } = parseRequest(listKeysQuery, query);
    return this.admin.list(keyRing, pageToken ?? '', pageSize);
  }

  @Get(':name')
  get(@Param('name') name: string): Promise<KeyView> {
    return this.admin.describe(parseRequest(keyName, name));
  }

  @Patch(':name')
  update(
    @Param('name') name: string,
    @Body() body: unknown,
    @CurrentPrincipal() caller: Principal,
  ): Promise<KeyView> {
    return this.admin.update(
      parseRequest(keyName, name),
      parseRequest(updateKeyRequest, body),
      describePrincipal(caller),
    );
  }

  /** `POST /kms/v1/keys/{name}:{method}`. */
  @Post(':resource')
  @HttpCode(200)
  async custom(
    @Param('resource') resource: string,
    @Body() body: unknown,
    @CurrentPrincipal() principal: Principal,
  ) {
    const { name, method } = splitResource(resource);
    const caller = describePrincipal(principal);
    const input = body ?? {};
    switch (method) {
      case 'encrypt': {
        const request = parseRequest(encryptRequest, input);
        const plaintext = plaintextOf(request.plaintext);
        return ciphertextView(
          await this.keys.encrypt(name, plaintext, fromBase64(request.associatedData)),
        );
      }
      case 'decrypt': {
        const request = parseRequest(decryptRequest, input);
        const result = await this.keys.decrypt(
          name,
          fromBase64(request.ciphertext),
          fromBase64(request.associatedData),
        );
        return { plaintext: toBase64(result.plaintext), keyVersion: result.keyVersion };
      }
      case 'rewrap': {
        const request = parseRequest(decryptRequest, input);
        return ciphertextView(
          await this.keys.rewrap(
            name,
            fromBase64(request.ciphertext),
            fromBase64(request.associatedData),
          ),
        );
      }
      case 'batchEncrypt': {
        const { items } = parseRequest(batchEncryptRequest, input);
        const plaintexts = items.map((item) => plaintextOf(item.plaintext));
        const results = await this.keys.batch(items, async (item, index) =>
          ciphertextView(
            await this.keys.encrypt(name, plaintexts[index]!, fromBase64(item.associatedData)),
          ),
        );
        return { results };
      }
      case 'batchDecrypt': {
        const { items } = parseRequest(batchDecryptRequest, input);
        const results = await this.keys.batch(items, async (item) => {
          const result = await this.keys.decrypt(
            name,
            fromBase64(item.ciphertext),
            fromBase64(item.associatedData),
          );
          return { plaintext: toBase64(result.plaintext), keyVersion: result.keyVersion };
        });
        return { results };
      }
      case 'batchRewrap': {
        const { items } = parseRequest(batchDecryptRequest, input);
        const results = await this.keys.batch(items, async (item) =>
          ciphertextView(
            await this.keys.rewrap(
              name,
              fromBase64(item.ciphertext),
              fromBase64(item.associatedData),
            ),
          ),
        );
        return { results };
      }
      case 'generateDataKey': {
        const request = parseRequest(generateDataKeyRequest, input);
        const result = await this.keys.generateDataKey(name, fromBase64(request.associatedData));
        return { plaintext: toBase64(result.plaintext), ...ciphertextView(result) };
      }
      case 'sign': {
        const request = parseRequest(signRequest, input);
        const result = await this.keys.sign(name, plaintextOf(request.message));
        return { signature: toBase64(result.signature), keyVersion: result.keyVersion };
      }
      case 'verify': {
        const request = parseRequest(verifyRequest, input);
        return this.keys.verify(
          name,
          plaintextOf(request.message),
          fromBase64(request.signature),
          request.keyVersion,
        );
      }
      case 'mac': {
        const request = parseRequest(macRequest, input);
        const result = await this.keys.mac(name, plaintextOf(request.message));
        return { mac: toBase64(result.mac), keyVersion: result.keyVersion };
      }
      case 'verifyMac': {
        const request = parseRequest(verifyMacRequest, input);
        return this.keys.verifyMac(
          name,
          plaintextOf(request.message),
          fromBase64(request.mac),
          request.keyVersion,
        );
      }
      case 'rotate': {
        const request = parseRequest(rotateRequest, input);
        return this.admin.rotate(name, caller, request.publicKey);
      }
      case 'disableVersion':
      case 'enableVersion': {
        const { version } = parseRequest(versionRequest, input);
        const state = method === 'disableVersion' ? 'DISABLED' : 'ENABLED';
        return this.admin.setVersionState(name, version, state, caller);
      }
      case 'scheduleDestruction':
        return this.admin.scheduleDestruction(
          name,
          parseRequest(scheduleDestructionRequest, input),
          caller,
        );
      case 'cancelDestruction':
        return this.admin.cancelDestruction(
          name,
          parseRequest(cancelDestructionRequest, input),
          caller,
        );
      default:
        throw new RampartError('not-found', `Keys have no method "${method}".`);
    }
  }
}
