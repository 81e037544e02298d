// `npm run build:workflows [-- DIR]`: bundles workflows/ once into DIR (default .rotor-bundles),
// named by the sources' hash, where a worker looks before bundling at start. Image builds run it
// so that a worker never runs webpack (workers/workflow-bundle.ts says why).
import { rename, writeFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { bundlePath, workflowSourceHash } from './workflow-bundle';
import { workflowBundleOptions } from './workflow-bundle-options';

async function main(): Promise<void> {
  const dir = path.resolve(process.argv[2] ?? path.join(__dirname, '..', '.rotor-bundles'));
  const file = bundlePath(dir, await workflowSourceHash());
  const quiet = (): undefined => undefined;
  const { code } = await bundleWorkflowCode({
    ...workflowBundleOptions(require.resolve('../workflows')),
    logger: {
      log: quiet,
      trace: quiet,
      debug: quiet,
      info: quiet,
      warn: (m) => process.stderr.write(`${m}\n`),
      error: (m) => process.stderr.write(`${m}\n`),
    },
  });
  await mkdir(dir, { recursive: true });
  // Written aside, then renamed: two workers bundling at once never read half a file.
  const partial = `${file}.${process.pid}.partial`;
  await writeFile(partial, code);
  await rename(partial, file);
  process.stdout.write(`${file}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(
    `bundling the workflows failed: ${err instanceof Error ? err.message : String(err)}\n`,
  );
  process.exit(1);
});
