import { Module } from '@nestjs/common';
import { CheckpointsModule } from '../checkpoints/checkpoints.module.js';
import { RetentionJob } from './retention-job.js';

@Module({ imports: [CheckpointsModule], providers: [RetentionJob] })
export class RetentionModule {}
