import { readFile } from 'node:fs/promises';
import { IAMClient } from '@aws-sdk/client-iam';
import { STSClient } from '@aws-sdk/client-sts';
import { inject } from 'vitest';

export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
}

export interface TestMoto {
  endpoint: string;
  logFile: string;
  recordingFile: string;
  /** The run's administrator (every IAM action allowed), for the tests' own set-up. */
  adminKey: AwsCredentials;
  iam(credentials: AwsCredentials): IAMClient;
  sts(credentials: AwsCredentials): STSClient;
  /** What the server logged and recorded (every request it received, bodies included). */
  logs(): Promise<string>;
  /** The body of every request moto received, in order (form-encoded IAM/STS queries). */
  requests(): Promise<string[]>;
}

const REGION = 'us-east-1';

/**
 * The run's one moto server (a local AWS-compatible IAM and STS; a stand-in, AWS is not reachable
 * here), started by the global setup with signatures and IAM policies enforced. It is shared by
 * every test file: give users unique names, and filter the request log by what a test made. When
 * moto could not be installed or started, this fails with the reason (what to install).
 */
export function testMoto(): TestMoto {
  const info = inject('moto');
  if ('error' in info) throw new Error(`moto is not available for the AWS tests: ${info.error}`);
  const config = (credentials: AwsCredentials) => ({
    endpoint: info.endpoint,
    region: REGION,
    credentials,
    maxAttempts: 1,
  });
  return {
    endpoint: info.endpoint,
    logFile: info.logFile,
    recordingFile: info.recordingFile,
    adminKey: info.adminKey,
    iam: (credentials) => new IAMClient(config(credentials)),
    sts: (credentials) => new STSClient(config(credentials)),
    async logs() {
      const entries = await recorded(info.recordingFile);
      return [await readText(info.logFile), ...entries.map((e) => `${e.line}\n${e.body}`)].join(
        '\n',
      );
    },
    async requests() {
      return (await recorded(info.recordingFile)).map((e) => e.body);
    },
  };
}

const readText = (file: string): Promise<string> => readFile(file, 'utf8').catch(() => '');

/** moto's recording, one JSON line per request; binary bodies are kept base64, so decode them. */
async function recorded(file: string): Promise<{ line: string; body: string }[]> {
  return (await readText(file))
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const entry = JSON.parse(line) as { body?: string | null; body_encoded?: boolean };
      const body =
        entry.body && entry.body_encoded
          ? Buffer.from(entry.body, 'base64').toString('utf8')
          : (entry.body ?? '');
      return { line, body };
    });
}
