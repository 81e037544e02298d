/**
 * `npm run moto`: a local AWS-compatible server (moto, from PyPI; a stand-in for AWS) to try the
 * aws_iam_access_key target without an AWS account. Installs moto into .tools/moto/ on first use,
 * starts it on a free loopback port (or ROTOR_DEV_MOTO_PORT), and sets up what the README's
 * walk-through uses: Rotor's own IAM user with the least-privilege policy and an access key (its
 * secret written to .rotor-dev/moto/rotor-access-key.json, mode 600, never printed), and a managed
 * user `orders-app` under /rotor-managed/. Runs until Ctrl-C.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  CreateAccessKeyCommand,
  CreateUserCommand,
  IAMClient,
  PutUserPolicyCommand,
} from '@aws-sdk/client-iam';
import { DevstackError, freePort, stderrProgress } from '../devstack';
import { ensureMoto, startMoto } from '../devstack/moto';
import { REPO_ROOT } from '../devstack/paths';

const STATE_DIR = path.join(REPO_ROOT, '.rotor-dev', 'moto');

/** README's policy for Rotor's principal; moto also wants sts:GetCallerIdentity allowed. */
const ROTOR_POLICY = JSON.stringify({
  Version: '2012-10-17',
  Statement: [
    {
      Effect: 'Allow',
      Action: [
        'iam:ListAccessKeys',
        'iam:CreateAccessKey',
        'iam:UpdateAccessKey',
        'iam:DeleteAccessKey',
        'sts:GetCallerIdentity',
      ],
      Resource: '*',
    },
  ],
});

async function main(): Promise<void> {
  const port = process.env.ROTOR_DEV_MOTO_PORT
    ? Number(process.env.ROTOR_DEV_MOTO_PORT)
    : await freePort();
  await mkdir(STATE_DIR, { recursive: true });
  const server = await startMoto({
    tool: await ensureMoto(stderrProgress),
    port,
    logFile: path.join(STATE_DIR, 'moto.log'),
    recordingFile: path.join(STATE_DIR, 'recording.jsonl'),
  });
  const stop = () => void server.stop().finally(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);

  // moto takes any signature until auth is enforced; this set-up does not enforce it.
  const iam = new IAMClient({
    endpoint: server.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'setup', secretAccessKey: 'setup' },
  });
  await iam.send(new CreateUserCommand({ UserName: 'rotor' }));
  await iam.send(
    new PutUserPolicyCommand({
      UserName: 'rotor',
      PolicyName: 'rotor',
      PolicyDocument: ROTOR_POLICY,
    }),
  );
  const key = (await iam.send(new CreateAccessKeyCommand({ UserName: 'rotor' }))).AccessKey;
  await iam.send(new CreateUserCommand({ UserName: 'orders-app', Path: '/rotor-managed/' }));
  iam.destroy();
  const keyFile = path.join(STATE_DIR, 'rotor-access-key.json');
  await writeFile(
    keyFile,
    JSON.stringify({ accessKeyId: key?.AccessKeyId, secretAccessKey: key?.SecretAccessKey }),
    { mode: 0o600 },
  );
  process.stdout.write(
    [
      `moto (a local AWS-compatible server, a stand-in for AWS) is listening on ${server.endpoint}`,
      `Rotor's IAM user: rotor, access key ${key?.AccessKeyId ?? '?'} (secret in ${path.relative(process.cwd(), keyFile)})`,
      'Managed IAM user: orders-app (path /rotor-managed/)',
      '',
      'Add it as a connection:',
      `  jq -r .secretAccessKey ${path.relative(process.cwd(), keyFile)} | npm run --silent rotor -- connections add aws-local --kind aws --region us-east-1 --endpoint ${server.endpoint} --username ${key?.AccessKeyId ?? '?'} --password-stdin`,
      '',
      'Ctrl-C stops it (its state is in memory and goes with it).',
      '',
    ].join('\n'),
  );
}

main().catch((err: unknown) => {
  if (err instanceof DevstackError) {
    process.stderr.write(`${err.message}\n`);
  } else {
    process.stderr.write(
      `moto did not start: ${err instanceof Error ? err.message : String(err)}\n`,
    );
  }
  process.exit(1);
});
