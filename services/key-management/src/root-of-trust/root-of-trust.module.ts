import { Module } from '@nestjs/common';
import { SERVICE_CONFIG } from '@rampart/platform';
import type { KeyManagementConfig } from '../config/key-management.config.js';
import { RootKey } from './root-key.js';

/** Loads the root key once at start: a missing, unreadable or world-readable file stops the service. */
@Module({
  providers: [
    {
      provide: RootKey,
      inject: [SERVICE_CONFIG],
      useFactory: (config: KeyManagementConfig) => RootKey.fromFile(config.KMS_ROOT_KEY_FILE),
    },
  ],
  exports: [RootKey],
})
export class RootOfTrustModule {}
