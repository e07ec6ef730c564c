import { Controller, Get } from '@nestjs/common';
import { AllowAccessTokens } from '@rampart/platform';
import { DataSource } from 'typeorm';
import { verifyChain, type VerifyResult } from '../chain/chain-verifier.js';

/** The scope an access token needs to read the audit log or check its integrity. */
export const AUDIT_READ_SCOPE = 'audit:read';

/** `/audit/v1/verify`: the chain checked end to end, in one snapshot. */
@Controller('audit/v1/verify')
@AllowAccessTokens(AUDIT_READ_SCOPE)
export class VerifyController {
  constructor(private readonly dataSource: DataSource) {}

  @Get()
  verify(): Promise<VerifyResult> {
    return verifyChain(this.dataSource);
  }
}
