import { Module } from '@nestjs/common';
import { SharedObjectsController } from './shared-objects.controller.js';
import { SharingRepository } from './sharing.repository.js';
import { SharingService } from './sharing.service.js';
import { WrapKeysController } from './wrap-keys.controller.js';

/**
 * End-to-end encrypted sharing. Needs no root of trust: nothing here is encrypted by the
 * service, so there is nothing for it to wrap or rotate.
 */
@Module({
  controllers: [WrapKeysController, SharedObjectsController],
  providers: [SharingRepository, SharingService],
})
export class SharingModule {}
