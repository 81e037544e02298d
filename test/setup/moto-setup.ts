import path from 'node:path';
import {
  CreateAccessKeyCommand,
  CreateUserCommand,
  IAMClient,
  PutUserPolicyCommand,
} from '@aws-sdk/client-iam';
import { freePort, silentProgress } from '../../devstack';
import { ensureMoto, startMoto } from '../../devstack/moto';
import type { MotoInfo } from './stack-info';

/**
 * One moto server for the whole run (a local AWS-compatible IAM and STS; a stand-in, AWS is not
 * reachable here), started by the global setup. An administrator is made while moto still takes
 * any signature, then signatures and IAM policies are enforced for every test file. If moto cannot
 * be installed or started, the reason is handed to the AWS tests, which fail with it; the rest of
 * the suite runs.
 */
export async function startRunMoto(
  stateDir: string,
): Promise<{ info: MotoInfo; stop(): Promise<void> }> {
  const logFile = path.join(stateDir, 'logs', 'moto.log');
  const recordingFile = path.join(stateDir, 'moto-recording.jsonl');
  let server;
  try {
    server = await startMoto({
      tool: await ensureMoto(silentProgress),
      port: await freePort(),
      logFile,
      recordingFile,
    });
  } catch (err) {
    const error = err instanceof Error ? err.message : String(err);
    return { info: { error }, stop: () => Promise.resolve() };
  }
  try {
    const bootstrap = new IAMClient({
      endpoint: server.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'bootstrap', secretAccessKey: 'bootstrap' },
      maxAttempts: 1,
    });
    await bootstrap.send(new CreateUserCommand({ UserName: 'test-admin' }));
    await bootstrap.send(
      new PutUserPolicyCommand({
        UserName: 'test-admin',
        PolicyName: 'all',
        PolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Action: ['*'], Resource: '*' }],
        }),
      }),
    );
    const key = (await bootstrap.send(new CreateAccessKeyCommand({ UserName: 'test-admin' })))
      .AccessKey;
    bootstrap.destroy();
    const res = await fetch(`${server.endpoint}/moto-api/reset-auth`, {
      method: 'POST',
      body: '0',
    });
    if (!res.ok) throw new Error(`moto refused reset-auth: ${res.status}`);
    return {
      info: {
        endpoint: server.endpoint,
        logFile,
        recordingFile,
        adminKey: {
          accessKeyId: key?.AccessKeyId ?? '',
          secretAccessKey: key?.SecretAccessKey ?? '',
        },
      },
      stop: () => server.stop(),
    };
  } catch (err) {
    await server.stop();
    throw err;
  }
}
