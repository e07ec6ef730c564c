import { Module } from '@nestjs/common';
import { SERVICE_CONFIG } from '@rampart/platform';
import type { KeyManagementConfig } from '../config/key-management.config.js';
import { loadRootKeys } from './load-root-keys.js';
import { RootKey } from './root-key.js';
import { RootKeyring } from './root-keyring.js';
import { RootRotationRepository } from './root-rotation.repository.js';
import { RootRotation } from './root-rotation.service.js';
import { RootController } from './root.controller.js';
import { WrappedTables } from './wrapped-tables.js';

/**
 * Loads the root keys once at start: a missing, unreadable or loosely permitted file, or a token
 * key that could leave its token, stops the service. `RootKey` is the keyring (wraps with the
 * current root, unwraps with any configured one); `WrappedTables` is where modules storing
 * root-wrapped values register their table for root rotation.
 */
@Module({
  controllers: [RootController],
  providers: [
    {
      provide: RootKeyring,
      inject: [SERVICE_CONFIG],
      useFactory: (config: KeyManagementConfig) => loadRootKeys(config),
    },
    { provide: RootKey, useExisting: RootKeyring },
    WrappedTables,
    RootRotationRepository,
    RootRotation,
  ],
  exports: [RootKey, WrappedTables],
})
export class RootOfTrustModule {}
