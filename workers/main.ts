// `tsx workers/main.ts`: a production worker process (docker-compose runs it). Config from env.
import { loadConfigOrExit } from '../config';
import { buildEngineClients } from './clients';
import { createRotorWorker } from './worker';

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const clients = buildEngineClients(config);
  const { worker, connection } = await createRotorWorker({ config, deps: clients });
  for (const signal of ['SIGINT', 'SIGTERM'] as const)
    process.once(signal, () => worker.shutdown());
  try {
    await worker.run();
  } finally {
    await connection.close();
    await clients.db.destroy();
    await clients.close();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(
    `rotor worker failed: ${err instanceof Error ? err.message : String(err)}\n`,
  );
  process.exit(1);
});
