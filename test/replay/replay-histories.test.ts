import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { describe, expect, inject, it } from 'vitest';

const DIR = path.join(__dirname, '..', 'fixtures', 'histories');

describe('recorded lifecycle histories', () => {
  it('replay against the current workflow code without non-determinism', async () => {
    const files = (await readdir(DIR)).filter((f) => f.endsWith('.json'));
    // Timer cycles, messages, pause/resume, policy update and retire were recorded.
    expect(files.length).toBeGreaterThanOrEqual(5);
    const histories = await Promise.all(
      files.map(async (file) => ({
        workflowId: file,
        history: temporal.api.history.v1.History.fromObject(
          JSON.parse(await readFile(path.join(DIR, file), 'utf8')) as Record<string, unknown>,
        ),
      })),
    );
    const results = [];
    for await (const result of Worker.runReplayHistories(
      { workflowBundle: { codePath: inject('stack').workflowBundlePath } },
      histories,
    )) {
      results.push({ workflowId: result.workflowId, error: result.error?.message });
    }
    expect(results).toHaveLength(files.length);
    expect(results.filter((r) => r.error)).toEqual([]);
  });
});
