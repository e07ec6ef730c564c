import { Module } from '@nestjs/common';
import { Checkpointer } from './checkpointer.js';

@Module({ providers: [Checkpointer], exports: [Checkpointer] })
export class CheckpointsModule {}
