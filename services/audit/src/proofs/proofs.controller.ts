import { Controller, Get, Query } from '@nestjs/common';
import { AllowAccessTokens, parseRequest, RampartError } from '@rampart/platform';
import type { z } from 'zod';
import { DataSource } from 'typeorm';
import { Checkpointer } from '../checkpoints/checkpointer.js';
import { checkpointStore } from '../checkpoints/checkpoint-store.js';
import { parseCheckpointText } from '../transparency/checkpoint.js';
import { merkleStore } from '../transparency/merkle-store.js';
import { consistencyProof, inclusionProof } from '../transparency/merkle-tree.js';
import { AUDIT_READ_SCOPE } from '../verify/verify.controller.js';
import {
  checkpointView,
  consistencyQuery,
  consistencyView,
  inclusionQuery,
  inclusionView,
} from './dto/proofs.dto.js';

const b64 = (hash: Buffer) => hash.toString('base64');

/** A size beyond the tree is the caller's mistake (a checkpoint from elsewhere): a 400. */
function beyond(size: number, treeSize: number, field: string): RampartError {
  return new RampartError('validation-failed', `the tree has ${treeSize} records, not ${size}`, {
    errors: [{ path: field, message: `exceeds the tree size ${treeSize}` }],
  });
}

/** The signed checkpoints and the Merkle proofs against them (ADR 0023). */
@Controller('audit/v1')
@AllowAccessTokens(AUDIT_READ_SCOPE)
export class ProofsController {
  constructor(
    private readonly dataSource: DataSource,
    private readonly checkpointer: Checkpointer,
  ) {}

  @Get('checkpoints/latest')
  async latest(): Promise<z.infer<typeof checkpointView>> {
    const checkpoint = await checkpointStore.latest(this.dataSource);
    if (!checkpoint) throw new RampartError('not-found', 'No checkpoint has been signed yet.');
    const text = checkpoint.note.slice(0, checkpoint.note.indexOf('\n\n') + 1);
    return {
      origin: parseCheckpointText(text).origin,
      size: checkpoint.size,
      rootHash: b64(checkpoint.root),
      time: checkpoint.time.toISOString(),
      note: checkpoint.note,
      verifierKey: this.checkpointer.verifierKey ?? null,
    };
  }

  @Get('proofs/inclusion')
  async inclusion(@Query() query: unknown): Promise<z.infer<typeof inclusionView>> {
    const { sequence, treeSize } = parseRequest(inclusionQuery, query);
    const size = await merkleStore.size(this.dataSource);
    if (treeSize > size) throw beyond(treeSize, size, 'treeSize');
    const index = sequence - 1;
    const [leaf] = await merkleStore.read(this.dataSource, [{ level: 0, index }]);
    const proof = await merkleStore.compute(this.dataSource, treeSize, (tree) =>
      inclusionProof(tree, index, treeSize),
    );
    return {
      sequence,
      leafIndex: index,
      treeSize,
      leafHash: b64(leaf!.hash),
      proof: proof.map(b64),
    };
  }

  @Get('proofs/consistency')
  async consistency(@Query() query: unknown): Promise<z.infer<typeof consistencyView>> {
    const { from, to } = parseRequest(consistencyQuery, query);
    const size = await merkleStore.size(this.dataSource);
    if (to > size) throw beyond(to, size, 'to');
    const proof = await merkleStore.compute(this.dataSource, to, (tree) =>
      consistencyProof(tree, from, to),
    );
    return { from, to, proof: proof.map(b64) };
  }
}
