import { Controller, Get } from '@nestjs/common';
import { SERVICE_NAMES } from '@rampart/contracts';
import { AllowAccessTokens, AllowWorkloads } from '@rampart/platform';
import type { RootView } from './dto/root.dto.js';
import { RootRotation } from './root-rotation.service.js';

/** The scope an access token needs to read the root of trust's state. */
export const KMS_ADMIN_SCOPE = 'kms.admin';

/**
 * `/kms/v1/root`: which root key wraps, and how far root rotation has come. Fingerprints and
 * counts only; platform workloads, and administrators with the `kms.admin` scope.
 */
@Controller('kms/v1/root')
@AllowWorkloads(...SERVICE_NAMES)
@AllowAccessTokens(KMS_ADMIN_SCOPE)
export class RootController {
  constructor(private readonly rotation: RootRotation) {}

  @Get()
  get(): Promise<RootView> {
    return this.rotation.progress();
  }
}
