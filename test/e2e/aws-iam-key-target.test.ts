import { randomUUID } from 'node:crypto';
import {
  CreateAccessKeyCommand,
  CreateUserCommand,
  ListAccessKeysCommand,
  PutUserPolicyCommand,
} from '@aws-sdk/client-iam';
import type { IAMClient } from '@aws-sdk/client-iam';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { ApplicationFailure } from '@temporalio/common';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import type { LogEntry } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SecretType, connectionCredentialPath, secretStagingPath } from '../../domain';
import { retireSignal, rotateNowSignal } from '../../workflows';
import { createTestApi } from '../helpers/api';
import type { TestApi } from '../helpers/api';
import { failOneRotation, startBrokenVerifyWorker } from '../helpers/broken-verify';
import type { BrokenVerify } from '../helpers/broken-verify';
import { startSecret, waitForStatus } from '../helpers/lifecycle';
import { testMoto } from '../helpers/moto';
import type { AwsCredentials, TestMoto } from '../helpers/moto';
import { leakForms, searchableText } from '../helpers/recording-vault';
import { createTestRotor, uniqueName } from '../helpers/stack';
import type { TestRotor } from '../helpers/stack';
import { engineTablesAsText } from '../helpers/table-text';

// Every log line the SDK, the worker and the activities emit in this process, at every level.
const logs: LogEntry[] = [];
Runtime.install({ logger: new DefaultLogger('TRACE', (entry) => logs.push(entry)) });

/** README's least-privilege policy for Rotor's principal (moto also wants GetCallerIdentity). */
const ROTOR_ACTIONS = [
  'iam:ListAccessKeys',
  'iam:CreateAccessKey',
  'iam:UpdateAccessKey',
  'iam:DeleteAccessKey',
  'sts:GetCallerIdentity',
];

const policy = (actions: string[]): string =>
  // moto checks IAM actions against the resource "*" only (see the driver's integration test).
  JSON.stringify({
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Action: actions, Resource: '*' }],
  });

describe('an api_key rotated as a real IAM access key (moto, a local AWS-compatible server), on an aws connection added through the API', () => {
  let moto: TestMoto;
  let admin: IAMClient;
  let rotor: TestRotor;
  let api: TestApi;
  let broken: BrokenVerify;
  let rotorKey: AwsCredentials;
  let rotorName: string;
  const connection = uniqueName('aws');
  /** Every secret access key Rotor was given or issued in this file, for the plaintext hunt. */
  const secrets = new Set<string>();
  const workflowIds: string[] = [];

  const createKey = async (user: string): Promise<AwsCredentials> => {
    const out = await admin.send(new CreateAccessKeyCommand({ UserName: user }));
    const key = {
      accessKeyId: out.AccessKey?.AccessKeyId ?? '',
      secretAccessKey: out.AccessKey?.SecretAccessKey ?? '',
    };
    secrets.add(key.secretAccessKey);
    return key;
  };
  const principal = async (user: string, actions: string[]): Promise<AwsCredentials> => {
    await admin.send(new CreateUserCommand({ UserName: user }));
    await admin.send(
      new PutUserPolicyCommand({
        UserName: user,
        PolicyName: 'p',
        PolicyDocument: policy(actions),
      }),
    );
    return createKey(user);
  };
  /** An IAM user whose keys Rotor manages; it may ask STS who it is, as consumers do. */
  const managedUser = async (): Promise<string> => {
    const user = `app-${randomUUID().slice(0, 8)}`;
    await admin.send(new CreateUserCommand({ UserName: user, Path: '/rotor-managed/' }));
    await admin.send(
      new PutUserPolicyCommand({
        UserName: user,
        PolicyName: 'whoami',
        PolicyDocument: policy(['sts:GetCallerIdentity']),
      }),
    );
    return user;
  };
  const keysOf = async (user: string) =>
    ((await admin.send(new ListAccessKeysCommand({ UserName: user }))).AccessKeyMetadata ?? []).map(
      (k) => ({ id: k.AccessKeyId, status: k.Status }),
    );
  /** Who moto says a key is (the user's ARN), or the refusal's code. */
  const whoIs = async (key: AwsCredentials): Promise<string> => {
    const sts = moto.sts(key);
    try {
      return (await sts.send(new GetCallerIdentityCommand({}))).Arn ?? 'no arn';
    } catch (err) {
      return `refused: ${(err as Error).name}`;
    } finally {
      sts.destroy();
    }
  };
  /** What a consumer reads from Vault: the newest version, or a given one. */
  const keyIn = async (path: string, version?: number): Promise<AwsCredentials> => {
    const read = await rotor.clients.vault.read(path, version);
    const key = {
      accessKeyId: String(read?.data.accessKeyId),
      secretAccessKey: String(read?.data.secretAccessKey),
    };
    secrets.add(key.secretAccessKey);
    return key;
  };
  const start = (userName: string, queue = rotor.config.temporal.taskQueue) =>
    startSecret(rotor.client, queue, {
      tenantId: uniqueName('aws'),
      name: 'deploy-key',
      type: SecretType.ApiKey,
      policy: { requiresApproval: false, graceSeconds: 3, maxAttempts: 1 },
      target: { kind: 'aws_iam_access_key', connection, userName },
    });

  beforeAll(async () => {
    // The run's moto, with signatures and IAM policies enforced: the run's administrator makes
    // Rotor's least-privilege principal (a name of this file's own: the server is shared).
    moto = testMoto();
    admin = moto.iam(moto.adminKey);
    rotorName = `rotor-${randomUUID().slice(0, 8)}`;
    rotorKey = await principal(rotorName, ROTOR_ACTIONS);

    rotor = await createTestRotor();
    await rotor.startWorker();
    broken = await startBrokenVerifyWorker(rotor, 'aws_iam_access_key');
    api = await createTestApi(rotor);
    const added = await api.call(api.tokens.admin, 'PUT', `/api/v1/connections/${connection}`, {
      kind: 'aws',
      region: 'us-east-1',
      endpoint: moto.endpoint,
      credential: { username: rotorKey.accessKeyId, password: rotorKey.secretAccessKey },
    });
    expect(added.statusCode, added.body).toBe(201);
  }, 180_000);
  afterAll(async () => {
    await api?.app.close();
    await rotor?.close();
    admin?.destroy();
  });

  it('keeps Rotor’s access key in Vault only, and the connection test authenticates with STS and finds every IAM permission', async () => {
    const stored = await rotor.clients.vault.read(connectionCredentialPath(connection));
    expect(stored?.data).toMatchObject({
      username: rotorKey.accessKeyId,
      password: rotorKey.secretAccessKey,
    });
    const row = await rotor.clients.db
      .selectFrom('connections')
      .selectAll()
      .where('name', '=', connection)
      .executeTakeFirstOrThrow();
    expect(row).toMatchObject({ kind: 'aws', region: 'us-east-1', endpoint: moto.endpoint });
    expect(JSON.stringify(row)).not.toContain(rotorKey.secretAccessKey);
    const shown = await api.call(api.tokens.admin, 'GET', `/api/v1/connections/${connection}`);
    expect(shown.json()).toMatchObject({
      kind: 'aws',
      region: 'us-east-1',
      endpoint: moto.endpoint,
    });
    expect(shown.body).not.toContain(rotorKey.secretAccessKey);

    const tested = await api.call(
      api.tokens.admin,
      'POST',
      `/api/v1/connections/${connection}/test`,
    );
    expect(tested.statusCode, tested.body).toBe(200);
    const probe = tested.json<{
      ok: boolean;
      checks: { check: string; ok: boolean; detail: string }[];
    }>();
    expect(probe.checks.map((c) => [c.check, c.ok])).toEqual([
      ['reach', true],
      ['login', true],
      ['privilege', true],
    ]);
    expect(probe.checks[1]?.detail).toMatch(new RegExp(`:user/${rotorName}$`));
    expect(probe.ok).toBe(true);
    expect(tested.body).not.toContain(rotorKey.secretAccessKey);
  });

  it('a connection test names the missing IAM permission, a refused key and an unreachable endpoint; bad aws connections are refused by field', async () => {
    const weak = await principal(`rotor-weak-${randomUUID().slice(0, 8)}`, [
      'sts:GetCallerIdentity',
      'iam:ListAccessKeys',
    ]);
    const cases = [
      ['weak', weak, moto.endpoint],
      [
        'wrong',
        { ...weak, secretAccessKey: `${weak.secretAccessKey.slice(0, -4)}XXXX` },
        moto.endpoint,
      ],
      ['down', weak, 'http://127.0.0.1:1'],
    ] as const;
    const results: Record<
      string,
      { ok: boolean; checks: { check: string; ok: boolean }[]; missingPrivilege?: string }
    > = {};
    for (const [label, key, endpoint] of cases) {
      const name = uniqueName(`aws-${label}`);
      const put = await api.call(api.tokens.admin, 'PUT', `/api/v1/connections/${name}`, {
        kind: 'aws',
        region: 'us-east-1',
        endpoint,
        credential: { username: key.accessKeyId, password: key.secretAccessKey },
      });
      expect(put.statusCode, put.body).toBe(201);
      const tested = await api.call(api.tokens.admin, 'POST', `/api/v1/connections/${name}/test`);
      expect(tested.statusCode, tested.body).toBe(200);
      expect(tested.body).not.toContain(key.secretAccessKey);
      results[label] = tested.json();
    }
    expect(results.weak).toMatchObject({ ok: false, missingPrivilege: 'iam:CreateAccessKey' });
    expect(results.wrong?.checks.map((c) => [c.check, c.ok])).toEqual([
      ['reach', true],
      ['login', false],
    ]);
    expect(results.down?.checks.map((c) => [c.check, c.ok])).toEqual([['reach', false]]);

    const put = (body: object) =>
      api.call(api.tokens.admin, 'PUT', `/api/v1/connections/${uniqueName('aws-bad')}`, body);
    const fieldsOf = (res: { json<T>(): T }) =>
      [
        ...new Set(
          res.json<{ error: { issues: { field: string }[] } }>().error.issues.map((d) => d.field),
        ),
      ].sort();
    const badEndpoint = await put({
      kind: 'aws',
      region: 'us-east-1',
      endpoint: 'http://user:pw@127.0.0.1:1/?x=1',
      credential: { username: rotorKey.accessKeyId, password: 'secret-value-1234' },
    });
    expect(badEndpoint.statusCode).toBe(400);
    expect(fieldsOf(badEndpoint)).toEqual(['body.endpoint']);
    expect(badEndpoint.body).not.toContain('user:pw');
    const badShape = await put({
      kind: 'aws',
      host: 'iam.amazonaws.com',
      credential: { username: 'not-a-key-id', password: 'secret-value-1234' },
    });
    expect(badShape.statusCode).toBe(400);
    expect(fieldsOf(badShape)).toEqual(['body.credential.username', 'body.host', 'body.region']);
    for (const res of [badEndpoint, badShape]) {
      expect(res.body).not.toContain('secret-value-1234');
    }
  });

  it('created and rotated through the API: consumers sign with what Vault holds as current, the old key works through grace, then is deactivated and deleted; retire deletes the rest', async () => {
    const user = await managedUser();
    const name = 'deploy-key';
    const created = await api.call(api.tokens.operator, 'POST', '/api/v1/secrets', {
      tenantId: api.tenantA,
      name,
      type: 'api_key',
      policy: { requiresApproval: false, graceSeconds: 5 },
      target: { kind: 'aws_iam_access_key', connection, userName: user },
    });
    expect(created.statusCode, created.body).toBe(201);
    const workflowId = `secret/${api.tenantA}/${name}`;
    workflowIds.push(workflowId);
    await waitForStatus(rotor.client, workflowId, (s) => s.currentVersion === 1);
    const path = `rotor/${api.tenantA}/${name}`;
    const v1 = await keyIn(path);
    expect(v1.accessKeyId).toMatch(/^[A-Z0-9]{16,128}$/);
    expect(await whoIs(v1)).toMatch(new RegExp(`:user/rotor-managed/${user}$`));
    // Rotor's own fields carry the same pair: username is the key id, value the secret.
    const raw = await rotor.clients.vault.read(path);
    expect(raw?.data).toMatchObject({ username: v1.accessKeyId, value: v1.secretAccessKey });
    expect(await keysOf(user)).toEqual([{ id: v1.accessKeyId, status: 'Active' }]);

    const rotate = await api.call(
      api.tokens.a,
      'POST',
      `/api/v1/secrets/${api.tenantA}/${name}/rotate`,
      { reason: 'e2e' },
    );
    expect(rotate.statusCode, rotate.body).toBe(202);
    await waitForStatus(
      rotor.client,
      workflowId,
      (s) => s.currentVersion === 2 && s.previousVersion === 1,
    );
    const v2 = await keyIn(path);
    expect(v2.accessKeyId).not.toBe(v1.accessKeyId);
    expect(await whoIs(v2)).toMatch(new RegExp(`:user/rotor-managed/${user}$`));
    // Grace: the previous key still signs for the user.
    expect(await whoIs(v1)).toMatch(new RegExp(`:user/rotor-managed/${user}$`));

    await waitForStatus(rotor.client, workflowId, (s) => s.previousVersion === null);
    expect(await whoIs(v1)).toBe('refused: InvalidClientTokenId');
    expect(await keysOf(user)).toEqual([{ id: v2.accessKeyId, status: 'Active' }]);
    // Deactivated before it was deleted.
    const v1Calls = (await moto.requests())
      .filter((b) => b.includes(`AccessKeyId=${v1.accessKeyId}`))
      .map((b) => /Action=(\w+)/.exec(b)?.[1]);
    expect(v1Calls).toEqual(['UpdateAccessKey', 'DeleteAccessKey']);

    // A key someone else made on the user is not Rotor's: retire leaves it.
    const foreign = await createKey(user);
    const retire = await api.call(
      api.tokens.a,
      'POST',
      `/api/v1/secrets/${api.tenantA}/${name}/retire`,
      { reason: 'e2e done' },
    );
    expect(retire.statusCode, retire.body).toBe(202);
    await waitForStatus(rotor.client, workflowId, (s) => s.state === 'RETIRED');
    expect(await whoIs(v2)).toBe('refused: InvalidClientTokenId');
    expect(await keysOf(user)).toEqual([{ id: foreign.accessKeyId, status: 'Active' }]);
  });

  it('compensates a failed verification: the new key is deleted, the old one keeps working and stays current', async () => {
    const user = await managedUser();
    const handle = await start(user, broken.queue);
    workflowIds.push(handle.workflowId);
    const first = await waitForStatus(
      rotor.client,
      handle.workflowId,
      (s) => s.currentVersion === 1,
    );
    const path = `rotor/${first.tenantId}/deploy-key`;
    const v1 = await keyIn(path, 1);

    const failed = await failOneRotation(rotor, broken, handle.workflowId);
    expect(failed.lastErrorType).toBe('VerificationFailed');
    expect(failed.currentVersion).toBe(1);
    // The key verify really signed with (AWS issued it) is gone; the old one is the only key.
    const applied = broken.applied.at(-1) ?? '';
    expect(applied.length).toBeGreaterThanOrEqual(20);
    secrets.add(applied);
    expect(await keysOf(user)).toEqual([{ id: v1.accessKeyId, status: 'Active' }]);
    expect(await whoIs(v1)).toMatch(new RegExp(`:user/rotor-managed/${user}$`));
    expect((await keyIn(path)).accessKeyId).toBe(v1.accessKeyId);
  });

  it('retires a secret whose failed rotation still owes its compensation: the key that rotation issued is deleted too, and nothing stays staged', async () => {
    // A worker whose verification fails after AWS issued the key, and whose compensation is
    // refused while `stuck` holds: the rotation is left owing its compensation.
    let stuck = false;
    const issued: string[] = [];
    const real = rotor.clients.targets.aws_iam_access_key;
    const queue = `aws-owed-${randomUUID()}`;
    await rotor.startWorker({
      taskQueue: queue,
      deps: {
        targets: {
          ...rotor.clients.targets,
          aws_iam_access_key: {
            ...real,
            verify: async (spec, staged, step) => {
              await real.verify(spec, staged, step);
              if (!stuck) return;
              issued.push(staged.username ?? '');
              secrets.add(staged.value);
              throw ApplicationFailure.nonRetryable('injected: verification', 'VerificationFailed');
            },
            compensate: async (spec, staged, current, step) => {
              if (stuck) throw ApplicationFailure.retryable('injected: IAM', 'TargetRejected');
              return real.compensate(spec, staged, current, step);
            },
          },
        },
      },
    });
    const user = await managedUser();
    const handle = await startSecret(rotor.client, queue, {
      tenantId: uniqueName('aws'),
      name: 'deploy-key',
      type: SecretType.ApiKey,
      policy: {
        requiresApproval: false,
        graceSeconds: 3,
        maxAttempts: 1,
        repairEverySeconds: 3600,
      },
      target: { kind: 'aws_iam_access_key', connection, userName: user },
    });
    workflowIds.push(handle.workflowId);
    const first = await waitForStatus(
      rotor.client,
      handle.workflowId,
      (s) => s.currentVersion === 1 && !s.rotationId,
    );
    const v1 = await keyIn(`rotor/${first.tenantId}/deploy-key`, 1);

    stuck = true;
    await handle.signal(rotateNowSignal, { requestedBy: 'test', reason: 'will fail' });
    const owed = await waitForStatus(rotor.client, handle.workflowId, (s) => s.repair !== null);
    expect(owed.repair?.steps).toEqual(['compensateTarget', 'discardPendingVersion']);
    const [leftover = ''] = issued;
    expect(leftover).not.toBe('');
    expect((await keysOf(user)).map((k) => k.id).sort()).toEqual([v1.accessKeyId, leftover].sort());

    await handle.signal(retireSignal, { requestedBy: 'owner', reason: 'decommissioned' });
    expect((await handle.result()).state).toBe('RETIRED');
    // Nothing Rotor issued for this secret works any more, and no value waits in staging.
    expect(await keysOf(user)).toEqual([]);
    expect(
      await rotor.clients.vault.read(secretStagingPath(first.tenantId, 'deploy-key')),
    ).toBeUndefined();
  });

  it('stops at a second key Rotor did not issue, naming it, deleting nothing, with the old key current', async () => {
    const user = await managedUser();
    const handle = await start(user);
    workflowIds.push(handle.workflowId);
    const first = await waitForStatus(
      rotor.client,
      handle.workflowId,
      (s) => s.currentVersion === 1,
    );
    const path = `rotor/${first.tenantId}/deploy-key`;
    const v1 = await keyIn(path, 1);
    const stray = await createKey(user);

    await handle.signal(rotateNowSignal, { requestedBy: 'test', reason: 'two keys' });
    const stuck = await waitForStatus(
      rotor.client,
      handle.workflowId,
      (s) => s.state === 'NEEDS_ATTENTION',
    );
    expect(stuck.lastErrorType).toBe('TargetRejected');
    expect(stuck.currentVersion).toBe(1);
    expect((await keysOf(user)).map((k) => k.id).sort()).toEqual(
      [v1.accessKeyId, stray.accessKeyId].sort(),
    );
    expect(await whoIs(v1)).toMatch(new RegExp(`:user/rotor-managed/${user}$`));
  });

  it('refuses hostile IAM user names and a missing connection by field, before anything reaches AWS', async () => {
    const before = (await moto.requests()).length;
    for (const userName of [
      '',
      'a'.repeat(65),
      'bob/../admin',
      'bob smith',
      'bob&UserName=admin',
      'bøb',
    ]) {
      const res = await api.call(api.tokens.operator, 'POST', '/api/v1/secrets', {
        tenantId: api.tenantA,
        name: uniqueName('hostile'),
        type: 'api_key',
        target: { kind: 'aws_iam_access_key', connection, userName },
      });
      expect(res.statusCode, res.body).toBe(400);
      const fields = res
        .json<{ error: { issues: { field: string }[] } }>()
        .error.issues.map((d) => d.field);
      expect([...new Set(fields)]).toEqual(['target.userName']);
      if (userName.length > 3) expect(res.body).not.toContain(userName);
    }
    const noConnection = await api.call(api.tokens.operator, 'POST', '/api/v1/secrets', {
      tenantId: api.tenantA,
      name: uniqueName('no-conn'),
      type: 'api_key',
      initialValue: 'an-imported-secret-value',
      target: { kind: 'aws_iam_access_key', userName: 'fine' },
    });
    expect(noConnection.statusCode).toBe(400);
    expect(noConnection.body).toContain('target.connection');
    const imported = await api.call(api.tokens.operator, 'POST', '/api/v1/secrets', {
      tenantId: api.tenantA,
      name: uniqueName('imported'),
      type: 'api_key',
      initialValue: 'an-imported-secret-value',
      target: { kind: 'aws_iam_access_key', connection, userName: 'fine' },
    });
    expect(imported.statusCode).toBe(400);
    expect(imported.body).toContain('initialValue');
    expect(imported.body).not.toContain('an-imported-secret-value');
    // moto is shared by the run's test files: no request since names any of these users.
    const since = (await moto.requests()).slice(before).join('\n');
    for (const userName of ['bob', 'fine', 'a'.repeat(65)]) {
      expect(since).not.toContain(`UserName=${userName}`);
    }
  });

  it('never lets a secret access key reach workflow history, Rotor’s logs, any engine table, or moto’s request log', async () => {
    // Runs last: it hunts through everything the tests above made.
    expect(secrets.size).toBeGreaterThanOrEqual(8);
    const haystacks: [string, string][] = [];
    for (const id of workflowIds) {
      const history = await rotor.client.workflow.getHandle(id).fetchHistory();
      haystacks.push([`history of ${id}`, searchableText(history)]);
      const described = await rotor.client.workflow.getHandle(id).describe();
      haystacks.push([`search attributes of ${id}`, JSON.stringify(described.searchAttributes)]);
    }
    expect(logs.length).toBeGreaterThan(0);
    haystacks.push([
      'the logs',
      JSON.stringify(logs, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)),
    ]);
    for (const { table, text } of await engineTablesAsText(rotor.clients.db)) {
      haystacks.push([`table ${table}`, text]);
    }
    // moto records every request it received, bodies included (the signed STS calls too); its
    // CreateAccessKey responses necessarily carry the new secret, and are not recorded.
    const requestLog = await moto.logs();
    expect(requestLog).toContain('Action=CreateAccessKey');
    expect(requestLog).toContain('Action=GetCallerIdentity');
    haystacks.push(["moto's request log", requestLog]);
    for (const secret of secrets) {
      expect(secret.length).toBeGreaterThanOrEqual(20);
      for (const [where, text] of haystacks) {
        for (const form of [...leakForms(secret), encodeURIComponent(secret)]) {
          // Rotor's own key is in moto's log only if Rotor sent it; it never should.
          expect(text.includes(form), `${where} contains a secret access key`).toBe(false);
        }
      }
    }
  });
});
