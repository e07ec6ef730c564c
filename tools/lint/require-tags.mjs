// Fails when a workspace project has no tags, or a tag outside the vocabulary of the brief, so a
// new project cannot slip past @nx/enforce-module-boundaries by being untagged.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const KINDS = new Set([
  'type:app',
  'type:contracts',
  'type:platform',
  'type:testing',
  'type:sdk',
  'type:launcher',
  'type:tooling',
]);

const folder = mkdtempSync(join(tmpdir(), 'rampart-graph-'));
const file = join(folder, 'graph.json');
try {
  execFileSync('npx', ['nx', 'graph', `--file=${file}`], {
    stdio: 'ignore',
    env: { ...process.env, NX_DAEMON: 'false' },
  });
  const { nodes } = JSON.parse(readFileSync(file, 'utf8')).graph;
  const problems = [];
  for (const [name, node] of Object.entries(nodes)) {
    const tags = node.data.tags ?? [];
    const kinds = tags.filter((tag) => tag.startsWith('type:'));
    if (kinds.length !== 1 || !KINDS.has(kinds[0])) {
      problems.push(`${name}: needs exactly one known type:* tag (has ${JSON.stringify(tags)})`);
    } else if (kinds[0] === 'type:app' && !tags.includes(`scope:${name}`)) {
      problems.push(`${name}: a service needs the tag scope:${name}`);
    }
  }
  if (problems.length > 0) {
    process.stderr.write(`Project tags:\n  ${problems.join('\n  ')}\n`);
    process.exitCode = 1;
  } else {
    process.stdout.write(`project tags: all ${Object.keys(nodes).length} projects tagged\n`);
  }
} finally {
  rmSync(folder, { recursive: true, force: true });
}
