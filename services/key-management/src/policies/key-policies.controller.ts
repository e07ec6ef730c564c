import { Body, Controller, Get, Param, Put } from '@nestjs/common';
import { SERVICE_NAMES } from '@rampart/contracts';
import {
  AllowAccessTokens,
  AllowWorkloads,
  CurrentPrincipal,
  parseRequest,
  type Principal,
} from '@rampart/platform';
import { keyName, keyRingName } from '../keys/dto/keys.dto.js';
import { setPolicyRequest, type PolicyView } from './dto/key-policies.dto.js';
import { KeyAccess } from './key-access.js';
import { KeyPolicies, type KeyTarget } from './key-policies.service.js';

/**
 * Policy administration: `/kms/v1/policies/keyRings/{ring}` and
 * `/kms/v1/policies/keyRings/{ring}/keys/{key}`. A key's policy is addressed through its ring, so
 * a policy written for a key only applies while the key belongs to that ring. Reading and writing
 * a policy are key operations like any other: authorized by policy and audited.
 */
@Controller('kms/v1/policies/keyRings/:ring')
@AllowWorkloads(...SERVICE_NAMES)
// Any valid access token gets in; the key policy decides (kms.admin by default).
@AllowAccessTokens()
export class KeyPoliciesController {
  constructor(
    private readonly policies: KeyPolicies,
    private readonly access: KeyAccess,
  ) {}

  @Get()
  getRing(@Param('ring') ring: string, @CurrentPrincipal() caller: Principal): Promise<PolicyView> {
    return this.read(caller, { ring: parseRequest(keyRingName, ring) });
  }

  @Put()
  setRing(
    @Param('ring') ring: string,
    @Body() body: unknown,
    @CurrentPrincipal() caller: Principal,
  ): Promise<PolicyView> {
    return this.write(caller, { ring: parseRequest(keyRingName, ring) }, body);
  }

  @Get('keys/:key')
  getKey(
    @Param('ring') ring: string,
    @Param('key') key: string,
    @CurrentPrincipal() caller: Principal,
  ): Promise<PolicyView> {
    return this.read(caller, target(ring, key));
  }

  @Put('keys/:key')
  setKey(
    @Param('ring') ring: string,
    @Param('key') key: string,
    @Body() body: unknown,
    @CurrentPrincipal() caller: Principal,
  ): Promise<PolicyView> {
    return this.write(caller, target(ring, key), body);
  }

  // KeyPolicies checks getPolicy/setPolicy again itself (it never serves an unchecked caller);
  // the second check hits the policy cache.
  private read(caller: Principal, on: KeyTarget): Promise<PolicyView> {
    return this.access.perform(caller, 'getPolicy', on, () => this.policies.getPolicy(caller, on));
  }

  /** The body is read once the caller may set the policy: others learn nothing from its errors. */
  private write(caller: Principal, on: KeyTarget, body: unknown): Promise<PolicyView> {
    return this.access.perform(caller, 'setPolicy', on, () => {
      const { bindings, version } = parseRequest(setPolicyRequest, body);
      return this.policies.setPolicy(caller, on, bindings, version);
    });
  }
}

function target(ring: string, key: string): KeyTarget {
  return { ring: parseRequest(keyRingName, ring), key: parseRequest(keyName, key) };
}
