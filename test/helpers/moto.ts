import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { IAMClient } from '@aws-sdk/client-iam';
import { STSClient } from '@aws-sdk/client-sts';
import { freePort, silentProgress } from '../../devstack';
import { ensureMoto, startMoto } from '../../devstack/moto';
import type { MotoServer } from '../../devstack/moto';

export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
}

export interface TestMoto extends MotoServer {
  logFile: string;
  iam(credentials: AwsCredentials): IAMClient;
  sts(credentials: AwsCredentials): STSClient;
  /** From now on every request must be signed by a key moto knows and allowed by its policies. */
  enforceAuth(): Promise<void>;
  /** What the server logged and recorded (every request it received, bodies included). */
  logs(): Promise<string>;
  /** The body of every request moto received, in order (form-encoded IAM/STS queries). */
  requests(): Promise<string[]>;
  close(): Promise<void>;
}

const REGION = 'us-east-1';

/**
 * One moto server (a local AWS-compatible IAM and STS; a stand-in, AWS is not reachable here) for
 * one test file, on a free loopback port in a temporary folder of its own.
 */
export async function startTestMoto(): Promise<TestMoto> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'rotor-moto-'));
  const logFile = path.join(dir, 'moto.log');
  const server = await startMoto({
    tool: await ensureMoto(silentProgress),
    port: await freePort(),
    logFile,
    recordingFile: path.join(dir, 'recording.jsonl'),
  });
  const config = (credentials: AwsCredentials) => ({
    endpoint: server.endpoint,
    region: REGION,
    credentials,
    maxAttempts: 1,
  });
  return {
    ...server,
    logFile,
    iam: (credentials) => new IAMClient(config(credentials)),
    sts: (credentials) => new STSClient(config(credentials)),
    async enforceAuth() {
      const res = await fetch(`${server.endpoint}/moto-api/reset-auth`, {
        method: 'POST',
        body: '0',
      });
      if (!res.ok) throw new Error(`moto refused reset-auth: ${res.status}`);
    },
    async logs() {
      const entries = await recorded(server.recordingFile);
      return [await readText(logFile), ...entries.map((e) => `${e.line}\n${e.body}`)].join('\n');
    },
    async requests() {
      return (await recorded(server.recordingFile)).map((e) => e.body);
    },
    async close() {
      await server.stop();
      await rm(dir, { recursive: true, force: true });
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
