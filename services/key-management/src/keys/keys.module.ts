import { Module } from '@nestjs/common';
import { KeyPoliciesModule } from '../policies/key-policies.module.js';
import { RootOfTrustModule } from '../root-of-trust/root-of-trust.module.js';
import { KeyAdminService } from './key-admin.service.js';
import { KeyMaterial } from './key-material.js';
import { KeyScheduler } from './key-scheduler.js';
import { KeysController } from './keys.controller.js';
import { KeysRepository } from './keys.repository.js';
import { KeysService } from './keys.service.js';
import { SubjectKeysController } from './subject-keys.controller.js';
import { SubjectKeysService } from './subject-keys.service.js';

@Module({
  imports: [RootOfTrustModule, KeyPoliciesModule],
  controllers: [KeysController, SubjectKeysController],
  providers: [
    KeysRepository,
    KeyMaterial,
    KeysService,
    KeyAdminService,
    KeyScheduler,
    SubjectKeysService,
  ],
  exports: [KeysService, KeyAdminService, KeyMaterial],
})
export class KeysModule {}
