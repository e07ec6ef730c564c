import { Body, Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
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
  createKeyRequest,
  generateDataKeyRequest,
  decryptRequest,
  encryptRequest,
  keyName,
  type KeyView,
} from './dto/keys.dto.js';
import { KeysService } from './keys.service.js';

const fromBase64 = (value: string | undefined) => Buffer.from(value ?? '', 'base64');

const ciphertextView = (result: { ciphertext: Buffer; keyVersion: number }) => ({
  ciphertext: result.ciphertext.toString('base64'),
  keyVersion: result.keyVersion,
});

/**
 * `/kms/v1/keys`, with Google-style custom methods on the key resource (`{name}:encrypt`).
 * Platform workloads only for now; per-key policies and access tokens come with the rest of the
 * key-management issue.
 */
@Controller('kms/v1/keys')
@AllowWorkloads(...SERVICE_NAMES)
@AllowAccessTokens()
export class KeysController {
  constructor(private readonly keys: KeysService) {}

  @Post()
  @HttpCode(201)
  create(@Body() body: unknown, @CurrentPrincipal() caller: Principal): Promise<KeyView> {
    const { name, purpose } = parseRequest(createKeyRequest, body);
    return this.keys.create(name, purpose, describePrincipal(caller));
  }

  @Get(':name')
  get(@Param('name') name: string): Promise<KeyView> {
    return this.keys.describe(parseRequest(keyName, name));
  }

  /** `POST /kms/v1/keys/{name}:{method}`: the method follows the last colon. */
  @Post(':resource')
  @HttpCode(200)
  async custom(
    @Param('resource') resource: string,
    @Body() body: unknown,
    @CurrentPrincipal() caller: Principal,
  ) {
    const separator = resource.lastIndexOf(':');
    const name = parseRequest(keyName, separator > 0 ? resource.slice(0, separator) : resource);
    const method = separator > 0 ? resource.slice(separator + 1) : '';
    switch (method) {
      case 'encrypt': {
        const input = parseRequest(encryptRequest, body);
        const plaintext = fromBase64(input.plaintext);
        return ciphertextView(
          await this.keys.encrypt(name, plaintext, fromBase64(input.associatedData)),
        );
      }
      case 'decrypt': {
        const input = parseRequest(decryptRequest, body);
        const result = await this.keys.decrypt(
          name,
          fromBase64(input.ciphertext),
          fromBase64(input.associatedData),
        );
        return { plaintext: result.plaintext.toString('base64'), keyVersion: result.keyVersion };
      }
      case 'rewrap': {
        const input = parseRequest(decryptRequest, body);
        const ciphertext = fromBase64(input.ciphertext);
        return ciphertextView(
          await this.keys.rewrap(name, ciphertext, fromBase64(input.associatedData)),
        );
      }
      case 'generateDataKey': {
        const input = parseRequest(generateDataKeyRequest, body ?? {});
        const result = await this.keys.generateDataKey(name, fromBase64(input.associatedData));
        return { plaintext: result.plaintext.toString('base64'), ...ciphertextView(result) };
      }
      case 'rotate':
        return this.keys.rotate(name, describePrincipal(caller));
      default:
        throw new RampartError('not-found', `Keys have no method "${method}".`);
    }
  }
}
