/**
 * One owner of the queue table (issue #14 §5): outside src/delivery/ no module names
 * `webhook_messages`; they read it through delivery/queue-views.ts and change it through the
 * queue's functions (via webhooks/). Only the migrations and the typed schema name it besides.
 * dependency-cruiser cannot see table names in SQL, so this reads the source.
 */
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { it } from 'node:test';

const SRC = join(process.cwd(), 'src');
const OWNERS = [/^delivery\//, /^db\/migrations\//, /^db\/schema\.ts$/];

it('no module outside src/delivery/ (and the migrations and schema) names webhook_messages', async () => {
  const files = (await readdir(SRC, { recursive: true })).map((f) => f.split('\\').join('/')).filter((f) => f.endsWith('.ts'));
  assert.ok(files.length > 50, 'the source tree was read');
  const offenders: string[] = [];
  for (const file of files) {
    if (OWNERS.some((o) => o.test(file))) continue;
    const lines = (await readFile(join(SRC, file), 'utf8')).split('\n');
    lines.forEach((line, i) => {
      if (line.includes('webhook_messages')) offenders.push(`src/${file}:${i + 1}: ${line.trim()}`);
    });
  }
  assert.deepEqual(offenders, [], 'read the queue through src/delivery/queue-views.ts, write it through src/delivery/queue.ts');
});
