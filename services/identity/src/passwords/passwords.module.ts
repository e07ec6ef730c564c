import { Module } from '@nestjs/common';
import { LOGGER, SERVICE_CONFIG, type Logger } from '@rampart/platform';
import type { IdentityConfig } from '../config/identity.config.js';
import { meetsOwaspMinimum, argon2ParametersOf } from './password.config.js';
import { PasswordHasher } from './password-hasher.js';
import { PasswordPolicy } from './password-policy.js';

/**
 * Password storage (PasswordHasher) and the rules for new passwords (PasswordPolicy), both built
 * once at boot from the validated configuration: the decoy hash and the blocklist are ready
 * before the first login.
 */
@Module({
  providers: [
    {
      provide: PasswordHasher,
      inject: [SERVICE_CONFIG, LOGGER],
      useFactory: async (config: IdentityConfig, logger: Logger) => {
        const parameters = argon2ParametersOf(config);
        if (!meetsOwaspMinimum(parameters)) {
          // Only reachable with RAMPART_ALLOW_INSECURE_DEV_DEFAULTS (refused in production).
          logger.warn(
            { parameters },
            'PASSWORD HASHING IS WEAKER THAN OWASP MINIMUMS: development only, never in production',
          );
        }
        return PasswordHasher.fromConfig(config);
      },
    },
    {
      provide: PasswordPolicy,
      inject: [SERVICE_CONFIG],
      useFactory: (config: IdentityConfig) => PasswordPolicy.fromConfig(config),
    },
  ],
  exports: [PasswordHasher, PasswordPolicy],
})
export class PasswordsModule {}
