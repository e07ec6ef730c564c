import { Module } from '@nestjs/common';
import { RootOfTrustModule } from '../root-of-trust/root-of-trust.module.js';
import { WrappedTables } from '../root-of-trust/wrapped-tables.js';
import { TOKEN_SIGNING_KEYS_TABLE } from './signing-key-material.js';
import { TokenSigningController } from './token-signing.controller.js';
import { TokenSigningRepository } from './token-signing.repository.js';
import { TokenSigningScheduler } from './token-signing.scheduler.js';
import { TokenSigningService } from './token-signing.service.js';

/** Identity's token-signing keys; their wrapped private keys follow the root through rotations. */
@Module({
  imports: [RootOfTrustModule],
  controllers: [TokenSigningController],
  providers: [TokenSigningRepository, TokenSigningService, TokenSigningScheduler],
})
export class TokenSigningModule {
  constructor(tables: WrappedTables) {
    tables.register(TOKEN_SIGNING_KEYS_TABLE);
  }
}
