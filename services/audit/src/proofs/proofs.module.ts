import { Module } from '@nestjs/common';
import { CheckpointsModule } from '../checkpoints/checkpoints.module.js';
import { ProofsController } from './proofs.controller.js';

@Module({ imports: [CheckpointsModule], controllers: [ProofsController] })
export class ProofsModule {}
