import { Module } from '@nestjs/common';
import { SiemForwarding } from './siem-forwarding.js';

@Module({ providers: [SiemForwarding] })
export class SiemModule {}
