import { Controller, Get, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { SERVICE_NAMES } from '@rampart/contracts';
import { AllowWorkloads } from '../workload/access.decorators.js';

/**
 * `<prefix>/v1/service-info`: who this service is and which workload called, for platform
 * services only. It is the smallest route that exercises workload identity end to end.
 */
export function serviceInfoController(path: string, info: { service: string; version: string }) {
  @Controller()
  class ServiceInfoController {
    @AllowWorkloads(...SERVICE_NAMES)
    @Get(path.replace(/^\//, ''))
    serviceInfo(@Req() request: FastifyRequest & { workload?: string }) {
      return { ...info, caller: request.workload };
    }
  }
  return ServiceInfoController;
}
