// `rotor`: the command line for Rotor's HTTP API. ROTOR_API_URL (default http://127.0.0.1:8080)
// and ROTOR_TOKEN (an API token; required) say where and as whom.
import { Command, Option } from 'commander';
import { apiClient, CliError } from './api-client';
import { registerAuditCommands } from './audit';
import { registerReportCommands } from './report';
import type { ApiClient } from './api-client';
import { registerReferenceCommands } from './commands/reference';
import { queryString } from './commands/context';
import { checkName, idSegment, secretPath } from './commands/names';
import { registerRotationCommands } from './commands/rotations';
import { registerSecretControlCommands } from './commands/secret-control';
import { printObject, printRows, progressBar } from './output';
import { registerRunCommand } from './run';

const program = new Command()
  .name('rotor')
  .description('Rotor secret-rotation engine: manage secrets, approvals and tokens through the API')
  .option('--json', 'print JSON instead of tables', false)
  .showHelpAfterError();

function api(): ApiClient {
  const token = process.env.ROTOR_TOKEN;
  if (!token)
    throw new CliError(
      'ROT_ERR_CONFIG',
      'ROTOR_TOKEN is required: an API token (npm start prints the bootstrap admin token on first start).',
      [],
      78,
    );
  return apiClient(process.env.ROTOR_API_URL || 'http://127.0.0.1:8080', token);
}
const json = (): boolean => program.opts<{ json: boolean }>().json;
const idempotency = (key: string | undefined): Record<string, string> =>
  key ? { 'idempotency-key': key } : {};
// One query-string builder for every command: it checks tenant and secret names too.
const qs = queryString;

const secrets = program.command('secrets').description('managed secrets');
secrets
  .command('list')
  .description('list secrets')
  .option('--tenant <id>')
  .option('--type <type>')
  .option('--state <state>')
  .option('--limit <n>', 'at most this many (1-200, default 50)')
  .action(async (o: { tenant?: string; type?: string; state?: string; limit?: string }) => {
    const res = await api().request<{ items: Record<string, unknown>[] }>(
      'GET',
      `/api/v1/secrets${qs({ tenantId: o.tenant, type: o.type, state: o.state, limit: o.limit })}`,
    );
    printRows(
      res.items,
      ['tenantId', 'name', 'type', 'state', 'currentVersion', 'nextRotationAt'],
      json(),
    );
  });
secrets
  .command('create <tenant> <name>')
  .description('bring a secret under management')
  .requiredOption(
    '--type <type>',
    'api_key, database_password, service_token, encryption_key, jwt_secret, webhook_secret…',
  )
  .option('--interval <seconds>', 'rotate every N seconds', (v) => Number(v))
  .option('--cron <expression>', 'rotate on a cron schedule')
  .option('--grace <seconds>', 'keep the previous version valid this long', (v) => Number(v))
  .option('--allow-value-read', 'let `secrets value` read it over the API (audited)')
  .option('--idempotency-key <key>', 'a retry with the same key creates nothing twice')
  .action(
    async (
      tenant: string,
      name: string,
      o: {
        type: string;
        interval?: number;
        cron?: string;
        grace?: number;
        allowValueRead?: boolean;
        idempotencyKey?: string;
      },
    ) => {
      const policy = {
        ...(o.interval !== undefined ? { intervalSeconds: o.interval } : {}),
        ...(o.cron !== undefined ? { cron: o.cron } : {}),
        ...(o.grace !== undefined ? { graceSeconds: o.grace } : {}),
        ...(o.allowValueRead ? { allowValueRead: true } : {}),
      };
      const res = await api().request(
        'POST',
        '/api/v1/secrets',
        {
          tenantId: tenant,
          name,
          type: o.type,
          ...(Object.keys(policy).length ? { policy } : {}),
        },
        idempotency(o.idempotencyKey),
      );
      printObject(res, json());
    },
  );
secrets
  .command('status <tenant> <name>')
  .description('state, versions, schedule, pending approval and recent rotations')
  .action(async (tenant: string, name: string) => {
    printObject(await api().request('GET', secretPath(tenant, name)), json());
  });
secrets
  .command('rotate <tenant> <name>')
  .description('rotate now')
  .requiredOption('--reason <text>')
  .option('--idempotency-key <key>', 'a retry with the same key rotates once')
  .action(async (tenant: string, name: string, o: { reason: string; idempotencyKey?: string }) => {
    printObject(
      await api().request(
        'POST',
        secretPath(tenant, name, '/rotate'),
        { reason: o.reason },
        idempotency(o.idempotencyKey),
      ),
      json(),
    );
  });
secrets
  .command('value <tenant> <name>')
  .description(
    'print the current value (audited; only if its policy allows value reads). Prefer reading Vault.',
  )
  .requiredOption('--reason <text>', 'recorded in the audit trail')
  .action(async (tenant: string, name: string, o: { reason: string }) => {
    const res = await api().request<{ value: string; version: number }>(
      'POST',
      secretPath(tenant, name, '/value'),
      { reason: o.reason },
    );
    // The bare value, so it can be piped; --json adds the version.
    if (json()) printObject(res, true);
    else process.stdout.write(`${res.value}\n`);
  });

const approvals = program.command('approvals').description('rotations waiting for security');
approvals
  .command('list')
  .option('--tenant <id>')
  .action(async (o: { tenant?: string }) => {
    const res = await api().request<{ items: Record<string, unknown>[]; unreachable?: string[] }>(
      'GET',
      `/api/v1/approvals${qs({ tenantId: o.tenant })}`,
    );
    if (res.unreachable?.length) {
      process.stderr.write(
        `! ${res.unreachable.length} waiting workflow(s) did not answer (is a worker running?): ${res.unreachable.join(', ')}\n`,
      );
    }
    printRows(
      res.items,
      [
        'tenantId',
        'name',
        'rotationId',
        'requestedBy',
        'reason',
        'approvals',
        'quorum',
        'expiresAt',
      ],
      json(),
    );
  });
approvals
  .command('approve <tenant> <name>')
  .requiredOption('--rotation <id>', 'the rotation id shown by `approvals list`')
  .option('--comment <text>')
  .action(async (tenant: string, name: string, o: { rotation: string; comment?: string }) => {
    const res = await api().request('POST', secretPath(tenant, name, '/approve'), {
      rotationId: o.rotation,
      ...(o.comment ? { comment: o.comment } : {}),
    });
    printObject(res, json());
  });
approvals
  .command('reject <tenant> <name>')
  .requiredOption('--rotation <id>')
  .requiredOption('--reason <text>')
  .action(async (tenant: string, name: string, o: { rotation: string; reason: string }) => {
    printObject(
      await api().request('POST', secretPath(tenant, name, '/reject'), {
        rotationId: o.rotation,
        reason: o.reason,
      }),
      json(),
    );
  });

interface BulkProgress {
  total: number;
  requested: number;
  unreachable: number;
  completed: number;
  failed: number;
  awaitingApproval: number;
  awaitingValue: number;
  done: boolean;
}

program
  .command('bulk-rotate')
  .description('rotate every matching secret now, showing progress until all are settled')
  .option('--tenant <id>')
  .option('--type <type>')
  .requiredOption('--reason <text>')
  .option('--no-wait', 'print the batch id and return at once')
  .action(async (o: { tenant?: string; type?: string; reason: string; wait: boolean }) => {
    const client = api();
    const { batchId, total } = await client.request<{ batchId: string; total: number }>(
      'POST',
      '/api/v1/rotations/bulk',
      {
        reason: o.reason,
        ...(o.tenant ? { tenantId: checkName(o.tenant, '--tenant') } : {}),
        ...(o.type ? { type: o.type } : {}),
      },
    );
    process.stderr.write(`batch ${batchId}: ${total} secrets\n`);
    if (!o.wait) return printObject({ batchId, total }, json());
    const tty = process.stderr.isTTY;
    let last = '';
    for (;;) {
      const p = await client.request<BulkProgress>(
        'GET',
        `/api/v1/rotations/bulk/${idSegment(batchId, 'batchId')}`,
      );
      const settled = p.completed + p.failed + p.awaitingApproval + p.awaitingValue;
      const line = progressBar(
        settled,
        p.requested,
        `rotated ${p.completed}, failed ${p.failed}, awaiting approval ${p.awaitingApproval}, awaiting a value ${p.awaitingValue}`,
      );
      if (line !== last) process.stderr.write(tty ? `\r${line}` : `${line}\n`);
      last = line;
      if (p.done) {
        if (tty) process.stderr.write('\n');
        printObject({ batchId, ...p }, json());
        if (p.failed > 0 || p.unreachable > 0) process.exitCode = 1;
        return;
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
  });

program
  .command('tokens')
  .description('API tokens')
  .command('create <name>')
  .addOption(
    new Option('--role <role>')
      .choices(['admin', 'security', 'operator', 'tenant'])
      .makeOptionMandatory(),
  )
  .option('--tenant <id>', 'required for tenant tokens')
  .action(async (name: string, o: { role: string; tenant?: string }) => {
    const res = await api().request('POST', '/api/v1/tokens', {
      name,
      role: o.role,
      ...(o.tenant ? { tenantId: o.tenant } : {}),
    });
    printObject(res, json());
  });

registerAuditCommands(program, { api, json, qs });
registerReportCommands(program, { api, json, qs });
registerRotationCommands(program, { api, json });
registerSecretControlCommands(secrets, { api, json });
registerReferenceCommands(program, { api, json });
registerRunCommand(program);

program.parseAsync().catch((err: unknown) => {
  if (err instanceof CliError) {
    process.stderr.write(`✗ ${err.code}: ${err.message}\n`);
    for (const issue of err.issues) process.stderr.write(`  - ${issue.field}: ${issue.message}\n`);
    process.exit(err.exitCode);
  }
  process.stderr.write(`✗ ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
