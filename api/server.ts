// `tsx api/server.ts`: the production API process (docker-compose runs it). Config from env.
import { loadConfigOrExit } from '../config';
import {
  buildEngineClients,
  buildHealthChecks,
  connectTemporalClient,
  engineListenerClients,
} from '../engine';
import { buildApp } from './app';
import { ensureBootstrapAdmin } from './auth/tokens';

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const clients = buildEngineClients(config);
  const temporal = await connectTemporalClient(config);
  const app = buildApp({
    checks: buildHealthChecks(clients, temporal.connection),
    logLevel: config.logLevel,
    services: {
      db: clients.db,
      temporal,
      config,
      vault: clients.vault,
      listenerClient: engineListenerClients(config.databaseUrl),
    },
  });
  const bootstrap = await ensureBootstrapAdmin(clients.db);
  if (bootstrap) {
    process.stdout.write(
      `First start: bootstrap admin token (shown once, store it now):\n  ${bootstrap}\n`,
    );
  }
  const close = async (): Promise<void> => {
    await app.close();
    await temporal.connection.close();
    await clients.db.destroy();
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => void close().then(() => process.exit(0)));
  }
  await app.listen({ host: config.api.host, port: config.api.port });
}

main().catch((err: unknown) => {
  process.stderr.write(`rotor api failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
