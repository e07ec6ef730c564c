import { Controller, Get } from '@nestjs/common';
import { SERVICE_NAMES } from '@rampart/contracts';
import { AllowWorkloads, CurrentPrincipal, type Principal } from '../workload/access.decorators.js';

/**
 * `<prefix>/v1/service-info`: who this service is and which workload called, for platform
 * services only. It is the smallest route that exercises workload identity end to end.
 */
export function serviceInfoController(path: string, info: { service: string; version: string }) {
  @Controller()
  class ServiceInfoController {
    @AllowWorkloads(...SERVICE_NAMES)
    @Get(path.replace(/^\//, ''))
    serviceInfo(@CurrentPrincipal() caller: Principal) {
      return { ...info, caller: caller.id };
    }
  }
  return ServiceInfoController;
}
