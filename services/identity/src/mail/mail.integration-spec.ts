import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startService, type RunningService } from '@rampart/platform';
import { createTestDatabase, type TestDatabase } from '@rampart/platform/testing-support';
import { identityService } from '../identity.service.js';
import { identityTestEnv } from '../testing/identity-test-env.js';
import { LocalMailbox } from './local-mailbox.js';
import { MAILER, type Mailer } from './mailer.js';

describe('mail in the identity service (booted on real PostgreSQL)', () => {
  let database: TestDatabase;
  let folder: string;
  let service: RunningService | undefined;

  beforeAll(async () => {
    database = await createTestDatabase('identity');
    folder = await mkdtemp(join(tmpdir(), 'rampart-identity-mail-'));
  });

  afterAll(async () => {
    await service?.stop();
    await database?.drop();
    await rm(folder, { recursive: true, force: true });
  });

  it('provides the local mailbox in development, where a developer reads what was sent', async () => {
    service = await startService(identityService, {
      env: await identityTestEnv(database, { IDENTITY_MAILBOX_DIR: join(folder, 'mailbox') }),
    });
    const mailer = service.app.get<Mailer>(MAILER);
    expect(mailer).toBeInstanceOf(LocalMailbox);

    const id = await mailer.send({ to: 'ada@example.org', subject: 'Welcome', text: 'hello' });
    const reader = new LocalMailbox(join(folder, 'mailbox'), 'unused@example.org');
    expect(await reader.read(id)).toMatchObject({ to: 'ada@example.org', text: 'hello' });
  });
});
