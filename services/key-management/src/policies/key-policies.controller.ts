import { Body, Controller, Get, Param, Put, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { SERVICE_NAMES } from '@rampart/contracts';
import { AllowWorkloads, parseRequest } from '@rampart/platform';
import { keyName } from '../keys/dto/keys.dto.js';
import { keyRingName, setPolicyRequest, type PolicyView } from './dto/key-policies.dto.js';
import { KeyAccess } from './key-access.js';
import { KeyPolicies, type KeyTarget } from './key-policies.service.js';
import type { Principal } from './principal.js';

type WorkloadRequest = FastifyRequest & { workload?: string };

/**
 * Policy administration: `/kms/v1/policies/keyRings/{ring}` and
 * `/kms/v1/policies/keyRings/{ring}/keys/{key}`. A key's policy is addressed through its ring, so
 * a policy written for a key only applies while the key belongs to that ring. Reading and writing
 * a policy are key operations like any other: authorized by policy and audited.
 */
@Controller('kms/v1/policies/keyRings/:ring')
@AllowWorkloads(...SERVICE_NAMES)
export class KeyPoliciesController {
  constructor(
    private readonly policies: KeyPolicies,
    private readonly access: KeyAccess,
  ) {}

  @Get()
  getRing(@Param('ring') ring: string, @Req() request: WorkloadRequest): Promise<PolicyView> {
    return this.read(principalOf(request), { ring: parseRequest(keyRingName, ring) });
  }

  @Put()
  setRing(
    @Param('ring') ring: string,
    @Body() body: unknown,
    @Req() request: WorkloadRequest,
  ): Promise<PolicyView> {
    return this.write(principalOf(request), { ring: parseRequest(keyRingName, ring) }, body);
  }

  @Get('keys/:key')
  getKey(
    @Param('ring') ring: string,
    @Param('key') key: string,
    @Req() request: WorkloadRequest,
  ): Promise<PolicyView> {
    return this.read(principalOf(request), target(ring, key));
  }

  @Put('keys/:key')
  setKey(
    @Param('ring') ring: string,
    @Param('key') key: string,
    @Body() body: unknown,
    @Req() request: WorkloadRequest,
  ): Promise<PolicyView> {
    return this.write(principalOf(request), target(ring, key), body);
  }

  // KeyPolicies checks getPolicy/setPolicy again itself (it never serves an unchecked caller);
  // the second check hits the policy cache.
  private read(caller: Principal, on: KeyTarget): Promise<PolicyView> {
    return this.access.perform(caller, 'getPolicy', on, () => this.policies.get(caller, on));
  }

  private write(caller: Principal, on: KeyTarget, body: unknown): Promise<PolicyView> {
    const { bindings, version } = parseRequest(setPolicyRequest, body);
    return this.access.perform(caller, 'setPolicy', on, () =>
      this.policies.set(caller, on, bindings, version),
    );
  }
}

function target(ring: string, key: string): KeyTarget {
  return { ring: parseRequest(keyRingName, ring), key: parseRequest(keyName, key) };
}

function principalOf(request: WorkloadRequest): Principal {
  if (!request.workload) throw new Error('No workload: the access guard did not run');
  return { kind: 'workload', id: request.workload };
}
