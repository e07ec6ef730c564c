import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { SERVICE_NAMES } from '@rampart/contracts';
import {
  AllowAccessTokens,
  AllowWorkloads,
  CurrentPrincipal,
  describePrincipal,
  parseRequest,
  type Principal,
} from '@rampart/platform';
import { KeyAccess } from '../policies/key-access.js';
import { SUBJECT_KEY_RING } from '../policies/key-policy.js';
import { shredSubjectRequest, subjectDataKeyRequest } from './dto/keys.dto.js';
import { SubjectKeysService } from './subject-keys.service.js';

/**
 * `/kms/v1/subjects:{method}`: per-subject keys, addressed by (tenant, subject) in the body so a
 * subject's identifier never appears in a URL or an access log. (`::` is a literal colon in a
 * route path.)
 */
@Controller('kms/v1')
@AllowWorkloads(...SERVICE_NAMES)
@AllowAccessTokens()
export class SubjectKeysController {
  constructor(
    private readonly subjects: SubjectKeysService,
    private readonly access: KeyAccess,
  ) {}

  @Post('subjects::generateDataKey')
  @HttpCode(200)
  async generateDataKey(@Body() body: unknown, @CurrentPrincipal() caller: Principal) {
    const request = parseRequest(subjectDataKeyRequest, body);
    // Checked against the ring: the key may not exist yet, and its name is the service's secret.
    const result = await this.access.perform(
      caller,
      'generateDataKey',
      { ring: SUBJECT_KEY_RING },
      () =>
        this.subjects.generateDataKey(
          request.tenant,
          request.subject,
          Buffer.from(request.associatedData ?? '', 'base64'),
          describePrincipal(caller),
        ),
      (result) => ({ version: result.keyVersion }),
    );
    return {
      keyName: result.keyName,
      plaintext: result.plaintext.toString('base64'),
      ciphertext: result.ciphertext.toString('base64'),
      keyVersion: result.keyVersion,
    };
  }

  @Post('subjects::shred')
  @HttpCode(200)
  shred(@Body() body: unknown, @CurrentPrincipal() caller: Principal) {
    const request = parseRequest(shredSubjectRequest, body);
    // Erasing at once is its own operation: key administrators may schedule destruction, only
    // the services that hold personal data may skip the waiting period.
    const operation = request.immediately ? 'destroyNow' : 'scheduleDestruction';
    return this.access.perform(caller, operation, { ring: SUBJECT_KEY_RING }, () =>
      this.subjects.shred(
        request.tenant,
        request.subject,
        request.immediately,
        describePrincipal(caller),
      ),
    );
  }
}
