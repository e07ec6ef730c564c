import { Module } from '@nestjs/common';
import { CheckpointsModule } from '../checkpoints/checkpoints.module.js';
import { VerifyController } from './verify.controller.js';

@Module({ imports: [CheckpointsModule], controllers: [VerifyController] })
export class VerifyModule {}
