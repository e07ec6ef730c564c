import { Module } from '@nestjs/common';
import { KeysModule } from './keys/keys.module.js';
import { KeyPoliciesModule } from './policies/key-policies.module.js';
import { SharingModule } from './sharing/sharing.module.js';

/** The key-management service's features. Platform concerns (health, OpenAPI, access) come from PlatformModule. */
@Module({ imports: [KeysModule, SharingModule, KeyPoliciesModule] })
export class KeyManagementModule {}
