import { readFile } from 'node:fs/promises';
import { Option } from 'commander';
import type { Command } from 'commander';
import { CliError } from '../api-client';
import { printObject, printRows } from '../output';
import { intOption } from './context';
import type { CliContext } from './context';

interface Connection {
  name: string;
  kind: string;
  host: string;
  port: number;
  database: string | null;
  tls: { mode: string };
  credentialPath: string;
  builtIn: boolean;
}

interface Probe {
  ok: boolean;
  checks: { check: string; ok: boolean; detail: string }[];
  missingPrivilege?: string;
}

/** The password comes from stdin only: never a flag, which `ps` and shell history would keep. */
async function readPasswordFromStdin(): Promise<string> {
  if (process.stdin.isTTY) {
    throw new CliError(
      'ROT_ERR_INPUT',
      '--password-stdin reads the password from stdin: pipe it in (e.g. from a file or a password manager).',
      [],
      2,
    );
  }
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  const password = Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
  if (!password) throw new CliError('ROT_ERR_INPUT', 'stdin held no password', [], 2);
  return password;
}

const path = (name: string): string => `/api/v1/connections/${encodeURIComponent(name)}`;

/** `rotor connections …`: target servers and Rotor's credential for each (admin). */
export function registerConnectionCommands(program: Command, ctx: CliContext): void {
  const connections = program
    .command('connections')
    .description('Target servers Rotor rotates credentials on (admin)');

  connections
    .command('list')
    .description('List connections, the default one (ROTOR_TARGET_DATABASE_URL) first')
    .action(async () => {
      const res = await ctx
        .api()
        .request<{ connections: Connection[] }>('GET', '/api/v1/connections');
      printRows(
        res.connections.map((c) => ({ ...c, tls: c.tls.mode, database: c.database ?? '' })),
        ['name', 'kind', 'host', 'port', 'database', 'tls', 'credentialPath'],
        ctx.json(),
      );
    });

  connections.command('show <name>').action(async (name: string) => {
    printObject(await ctx.api().request('GET', path(name)), ctx.json());
  });

  connections
    .command('add <name>')
    .description(
      'Create or replace a connection. The password is read from stdin and goes to Vault only.',
    )
    .addOption(
      new Option('--kind <kind>')
        .choices(['postgres', 'redis', 'mariadb', 'aws'])
        .makeOptionMandatory(),
    )
    .option('--host <host>', 'server host (not for aws)')
    .option('--port <port>', 'server port (not for aws)', intOption)
    .option('--region <region>', 'aws: the AWS region, e.g. us-east-1')
    .option(
      '--endpoint <url>',
      'aws: an AWS-compatible server (e.g. http://127.0.0.1:5000 for moto); omit for AWS itself',
    )
    .option('--database <name>', 'PostgreSQL database to log in to (default postgres)')
    .addOption(
      new Option('--tls <mode>').choices(['disable', 'require', 'verify-full']).default('disable'),
    )
    .option('--ca-file <path>', 'PEM file of the CA that signs the server certificate')
    .option('--server-name <name>', 'name the server certificate carries, if not the host')
    .option('--username <name>', "Rotor's own login on the server (aws: Rotor's access key id)")
    .option(
      '--password-stdin',
      'read the password for --username from stdin (aws: the secret access key)',
    )
    .action(
      async (
        name: string,
        o: {
          kind: string;
          host?: string;
          port?: number;
          region?: string;
          endpoint?: string;
          database?: string;
          tls: string;
          caFile?: string;
          serverName?: string;
          username?: string;
          passwordStdin?: boolean;
        },
      ) => {
        if ((o.username === undefined) !== (o.passwordStdin === undefined)) {
          throw new CliError(
            'ROT_ERR_INPUT',
            '--username and --password-stdin go together (omit both to keep the stored credential)',
            [],
            2,
          );
        }
        const credential = o.username
          ? { username: o.username, password: await readPasswordFromStdin() }
          : undefined;
        const caPem = o.caFile ? await readFile(o.caFile, 'utf8') : undefined;
        const aws = o.kind === 'aws';
        const missing = aws
          ? o.region === undefined
            ? '--region'
            : undefined
          : o.host === undefined
            ? '--host'
            : o.port === undefined
              ? '--port'
              : undefined;
        if (missing) {
          throw new CliError('ROT_ERR_INPUT', `${missing} is required for --kind ${o.kind}`, [], 2);
        }
        const res = await ctx.api().request('PUT', path(name), {
          kind: o.kind,
          ...(o.host !== undefined ? { host: o.host } : {}),
          ...(o.port !== undefined ? { port: o.port } : {}),
          ...(o.region !== undefined ? { region: o.region } : {}),
          ...(o.endpoint !== undefined ? { endpoint: o.endpoint } : {}),
          ...(o.database ? { database: o.database } : {}),
          ...(aws && o.tls === 'disable'
            ? {}
            : {
                tls: {
                  mode: o.tls,
                  ...(caPem ? { caPem } : {}),
                  ...(o.serverName ? { serverName: o.serverName } : {}),
                },
              }),
          ...(credential ? { credential } : {}),
        });
        printObject(res, ctx.json());
      },
    );

  connections
    .command('test <name>')
    .description(
      'Reach the server, log in with the credential Vault holds and check the privileges rotation needs, without rotating anything. Exits 1 when a check fails.',
    )
    .action(async (name: string) => {
      const res = await ctx.api().request<Probe>('POST', `${path(name)}/test`);
      if (ctx.json()) printObject(res, true);
      else {
        for (const c of res.checks)
          process.stdout.write(`${c.ok ? 'ok  ' : 'FAIL'} ${c.check}: ${c.detail}\n`);
        if (res.missingPrivilege)
          process.stdout.write(`missing privilege: ${res.missingPrivilege}\n`);
      }
      if (!res.ok) process.exitCode = 1;
    });

  connections
    .command('delete <name>')
    .description('Delete a connection and its credential in Vault')
    .action(async (name: string) => {
      await ctx.api().request('DELETE', path(name));
      printObject({ deleted: name }, ctx.json());
    });
}
