import { Controller, Get } from '@nestjs/common';
import { AllowAccessTokens } from '@rampart/platform';
import { DataSource } from 'typeorm';
import { verifyChain, type VerifyResult } from '../chain/chain-verifier.js';
import { Checkpointer } from '../checkpoints/checkpointer.js';
import { verifyTree, type TreeVerifyResult } from '../checkpoints/merkle-verifier.js';

/** The scope an access token needs to read the audit log or check its integrity. */
export const AUDIT_READ_SCOPE = 'audit:read';

/**
 * `/audit/v1/verify`: the chain checked end to end, in one snapshot (`valid` and the fields beside
 * it are the chain's), then the Merkle tree and the signed checkpoints (`merkle`, `checkpoints`).
 */
@Controller('audit/v1/verify')
@AllowAccessTokens(AUDIT_READ_SCOPE)
export class VerifyController {
  constructor(
    private readonly dataSource: DataSource,
    private readonly checkpointer: Checkpointer,
  ) {}

  @Get()
  async verify(): Promise<VerifyResult & TreeVerifyResult> {
    const chain = await verifyChain(this.dataSource);
    const tree = await verifyTree(this.dataSource, {
      verifierKey: this.checkpointer.verifierKey,
    });
    return { ...chain, ...tree };
  }
}
