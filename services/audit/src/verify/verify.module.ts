import { Module } from '@nestjs/common';
import { VerifyController } from './verify.controller.js';

@Module({ controllers: [VerifyController] })
export class VerifyModule {}
