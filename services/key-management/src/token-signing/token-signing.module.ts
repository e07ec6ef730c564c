import { Module } from '@nestjs/common';
import { RootOfTrustModule } from '../root-of-trust/root-of-trust.module.js';
import { TokenSigningController } from './token-signing.controller.js';
import { TokenSigningRepository } from './token-signing.repository.js';
import { TokenSigningScheduler } from './token-signing.scheduler.js';
import { TokenSigningService } from './token-signing.service.js';

@Module({
  imports: [RootOfTrustModule],
  controllers: [TokenSigningController],
  providers: [TokenSigningRepository, TokenSigningService, TokenSigningScheduler],
})
export class TokenSigningModule {}
