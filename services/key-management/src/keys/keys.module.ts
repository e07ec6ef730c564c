import { Module } from '@nestjs/common';
import { RootOfTrustModule } from '../root-of-trust/root-of-trust.module.js';
import { KeysController } from './keys.controller.js';
import { KeysRepository } from './keys.repository.js';
import { KeysService } from './keys.service.js';

@Module({
  imports: [RootOfTrustModule],
  controllers: [KeysController],
  providers: [KeysRepository, KeysService],
})
export class KeysModule {}
