import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  CreateAccessKeyCommand,
  CreateUserCommand,
  ListAccessKeysCommand,
  PutUserPolicyCommand,
} from '@aws-sdk/client-iam';
import type { IAMClient } from '@aws-sdk/client-iam';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { ApplicationFailure } from '@temporalio/common';
import nodeVault from 'node-vault';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  applyIssued,
  awsIamAccessKeyTargetSchema,
  createAwsIamKeyDriver,
  issuedVaultFields,
} from '../../activities/targets/aws-iam-key';
import type { AwsIamAccessKeyTarget, AwsIamKeyDeps } from '../../activities/targets/aws-iam-key';
import type { StagedCredential, TargetStep } from '../../activities/targets/driver';
import { DevstackError, silentProgress } from '../../devstack';
import { ensureMoto } from '../../devstack/moto';
import { secretStagingPath, secretVaultPath } from '../../domain';
import { VaultKv, publishStaged, readStaged, writeStaged } from '../../vault';
import { testMoto } from '../helpers/moto';
import type { AwsCredentials, TestMoto } from '../helpers/moto';

/** The four IAM actions README's least-privilege policy grants Rotor's own principal. */
const ROTOR_ACTIONS = [
  'iam:ListAccessKeys',
  'iam:CreateAccessKey',
  'iam:UpdateAccessKey',
  'iam:DeleteAccessKey',
];

const policy = (actions: string[]): string =>
  // moto checks IAM user actions against the resource "*" only, so a policy scoped to
  // arn:aws:iam::*:user/rotor-managed/* (README) would deny everything here; the actions are
  // what this proves.
  JSON.stringify({
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Action: actions, Resource: '*' }],
  });

describe('AWS IAM access keys, against moto (a local AWS-compatible IAM and STS)', () => {
  let moto: TestMoto;
  let admin: IAMClient;
  let rotorCreds: AwsCredentials;
  /** Every secret access key AWS issued in this file, for the plaintext hunt. */
  const issuedSecrets = new Set<string>();
  /** Every message Rotor's driver threw in this file, for the plaintext hunt. */
  const errorMessages: string[] = [];

  const createKey = async (iam: IAMClient, user: string): Promise<AwsCredentials> => {
    const out = await iam.send(new CreateAccessKeyCommand({ UserName: user }));
    const key = {
      accessKeyId: out.AccessKey?.AccessKeyId ?? '',
      secretAccessKey: out.AccessKey?.SecretAccessKey ?? '',
    };
    issuedSecrets.add(key.secretAccessKey);
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
    return createKey(admin, user);
  };

  /** An IAM user Rotor manages. moto (unlike AWS) wants sts:GetCallerIdentity allowed to answer. */
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

  /** The driver over Rotor's least-privilege principal, counting the requests it sends. */
  const makeDriver = (creds: AwsCredentials = rotorCreds, opts: Partial<AwsIamKeyDeps> = {}) => {
    const calls = { iam: 0, sts: 0 };
    const iam = moto.iam(creds);
    const driver = createAwsIamKeyDriver({
      iam: {
        send: ((command: never) => ((calls.iam += 1), iam.send(command))) as IAMClient['send'],
      },
      stsFor: (key) => {
        const sts = moto.sts(key);
        return {
          send: ((command: never) => ((calls.sts += 1), sts.send(command))) as typeof sts.send,
          destroy: () => sts.destroy(),
        };
      },
      verifyAttempts: 2,
      verifyDelayMs: 50,
      ...opts,
    });
    return { driver, calls };
  };

  const stepFor = (): TargetStep => ({
    rotationId: randomUUID(),
    secretId: randomUUID(),
    tenantId: 'acme',
    vaultPath: 'rotor/acme/aws',
  });

  /** The placeholder stage writes before the target issues the real value. */
  const placeholder = (version: number): StagedCredential => ({
    version,
    value: `placeholder-${randomUUID()}`,
  });

  /** What the apply activity does with an issued key: it becomes the staged credential. */
  const asStaged = (version: number, issued: AwsCredentials): StagedCredential => {
    issuedSecrets.add(issued.secretAccessKey);
    const fields = issuedVaultFields(issued);
    return { version, value: fields.value ?? '', username: fields.username ?? '' };
  };

  /** stage → apply → verify for one version, as the rotation activities run them. */
  const rotate = async (
    driver: ReturnType<typeof makeDriver>['driver'],
    spec: AwsIamAccessKeyTarget,
    version: number,
    current: StagedCredential | null,
  ): Promise<StagedCredential> => {
    const step = stepFor();
    const issued = await driver.apply(spec, placeholder(version), current, step);
    if (!issued) throw new Error('apply issued nothing');
    const staged = asStaged(version, issued);
    await driver.verify(spec, staged, step);
    return staged;
  };

  const keysOf = async (user: string) =>
    ((await admin.send(new ListAccessKeysCommand({ UserName: user }))).AccessKeyMetadata ?? []).map(
      (k) => ({ id: k.AccessKeyId, status: k.Status }),
    );

  /** Who moto says a credential is: the user's ARN, or the failure's code. */
  const whoIs = async (cred: StagedCredential): Promise<string> => {
    const sts = moto.sts({ accessKeyId: cred.username ?? '', secretAccessKey: cred.value });
    try {
      return (await sts.send(new GetCallerIdentityCommand({}))).Arn ?? 'no arn';
    } catch (err) {
      return `refused: ${(err as Error).name}`;
    } finally {
      sts.destroy();
    }
  };

  const failureOf = async (p: Promise<unknown>): Promise<ApplicationFailure> => {
    const err = await p.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ApplicationFailure);
    errorMessages.push((err as Error).message);
    return err as ApplicationFailure;
  };

  beforeAll(async () => {
    // The run's moto, with signatures and IAM policies enforced: the run's administrator makes
    // Rotor's least-privilege principal (a name of this file's own: the server is shared).
    moto = testMoto();
    admin = moto.iam(moto.adminKey);
    rotorCreds = await principal(`rotor-${randomUUID().slice(0, 8)}`, ROTOR_ACTIONS);
  });

  afterAll(() => {
    admin.destroy();
  });

  it('rotates two-key style: the new key authenticates, the old one works through grace, then revoke deactivates and deletes it', async () => {
    const user = await managedUser();
    const spec: AwsIamAccessKeyTarget = { kind: 'aws_iam_access_key', userName: user };
    const { driver } = makeDriver();

    const v1 = await rotate(driver, spec, 1, null);
    const v2 = await rotate(driver, spec, 2, v1);
    expect(v2.username).not.toBe(v1.username);
    expect(await keysOf(user)).toEqual(
      expect.arrayContaining([
        { id: v1.username, status: 'Active' },
        { id: v2.username, status: 'Active' },
      ]),
    );
    // Grace: both keys sign requests as the user.
    expect(await whoIs(v1)).toMatch(new RegExp(`:user/rotor-managed/${user}$`));
    expect(await whoIs(v2)).toMatch(new RegExp(`:user/rotor-managed/${user}$`));

    const before = (await moto.requests()).length;
    await driver.revoke(spec, { version: 1, username: v1.username }, v2, stepFor());
    expect(await keysOf(user)).toEqual([{ id: v2.username, status: 'Active' }]);
    expect(await whoIs(v1)).toBe('refused: InvalidClientTokenId');
    expect(await whoIs(v2)).toMatch(new RegExp(`:user/rotor-managed/${user}$`));
    // Deactivated first, then deleted: a consumer still holding it fails the same way either way,
    // but an Inactive key is what an operator can still turn back on if the delete is held up.
    const revokeCalls = (await moto.requests())
      .slice(before)
      .filter((b) => b.includes(`AccessKeyId=${v1.username}`))
      .map((b) => /Action=(\w+)/.exec(b)?.[1]);
    expect(revokeCalls).toEqual(['UpdateAccessKey', 'DeleteAccessKey']);
    expect(
      (await moto.requests()).slice(before).find((b) => b.startsWith('Action=UpdateAccessKey')),
    ).toMatch(/Status=Inactive/);

    // Revoking again (a retried activity) changes nothing.
    await driver.revoke(spec, { version: 1, username: v1.username }, v2, stepFor());
    expect(await keysOf(user)).toEqual([{ id: v2.username, status: 'Active' }]);
  });

  it('stores the pair so consumers read accessKeyId and secretAccessKey, and Rotor reads value and username', () => {
    expect(issuedVaultFields({ accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 's3cr3t' })).toEqual({
      accessKeyId: 'AKIAEXAMPLE',
      secretAccessKey: 's3cr3t',
      username: 'AKIAEXAMPLE',
      value: 's3cr3t',
    });
  });

  it('puts the issued key in Vault over the staged placeholder, so verify and consumers read the pair AWS issued', async () => {
    const { vaultAddr, vaultToken, kvMount } = inject('stack');
    const vault = new VaultKv(
      nodeVault({ apiVersion: 'v1', endpoint: vaultAddr, token: vaultToken }),
      kvMount,
    );
    const user = await managedUser();
    const spec: AwsIamAccessKeyTarget = { kind: 'aws_iam_access_key', userName: user };
    const { driver } = makeDriver();
    const name = `aws-${randomUUID().slice(0, 8)}`;
    const input = {
      ...stepFor(),
      vaultPath: secretVaultPath('acme', name),
      stagingPath: secretStagingPath('acme', name),
      version: 1,
    };
    // What stage writes: a generated placeholder, tagged with the rotation.
    await writeStaged(vault, input.stagingPath, input.rotationId, 1, {
      value: placeholder(1).value,
    });
    const stagedNow = async (): Promise<StagedCredential> => {
      const read = await readStaged(vault, input.stagingPath, input.rotationId);
      const { value, username } = read?.data ?? {};
      if (typeof value !== 'string') throw new Error('nothing staged');
      return { version: 1, value, ...(typeof username === 'string' ? { username } : {}) };
    };

    await applyIssued(driver, vault, spec, await stagedNow(), null, input);
    const staged = await stagedNow();
    issuedSecrets.add(staged.value);
    expect(staged.username).toMatch(/^[A-Z0-9]{16,128}$/);
    expect(await keysOf(user)).toEqual([{ id: staged.username, status: 'Active' }]);
    // A retried apply reads the issued key back from Vault and issues nothing.
    await applyIssued(driver, vault, spec, staged, null, input);
    expect(await keysOf(user)).toHaveLength(1);

    await driver.verify(spec, staged, input);
    await publishStaged(vault, input);
    const published = await vault.read(input.vaultPath);
    expect(published?.data).toMatchObject({
      accessKeyId: staged.username,
      secretAccessKey: staged.value,
      username: staged.username,
      value: staged.value,
    });
    const consumer = moto.sts({
      accessKeyId: String(published?.data.accessKeyId),
      secretAccessKey: String(published?.data.secretAccessKey),
    });
    expect((await consumer.send(new GetCallerIdentityCommand({}))).Arn).toMatch(
      new RegExp(`:user/rotor-managed/${user}$`),
    );
    consumer.destroy();
  });

  it('never makes a third key when apply is retried, whether or not Vault kept the first answer', async () => {
    const user = await managedUser();
    const spec: AwsIamAccessKeyTarget = { kind: 'aws_iam_access_key', userName: user };
    const { driver } = makeDriver();
    const v1 = await rotate(driver, spec, 1, null);

    // Retried after the issued key reached Vault: the staged key exists, nothing is issued.
    const step = stepFor();
    let recorded: string[] = [];
    const issued = await driver.apply(spec, placeholder(2), v1, step, (ids) => {
      recorded = ids;
      return Promise.resolve();
    });
    if (!issued) throw new Error('apply issued nothing');
    expect(recorded).toEqual([v1.username]);
    const staged = asStaged(2, issued);
    expect(await driver.apply(spec, staged, v1, step)).toBeNull();
    expect((await keysOf(user)).map((k) => k.id).sort()).toEqual(
      [v1.username, staged.username].sort(),
    );

    // Retried after the worker died before Vault kept it: that key's secret is lost. The
    // placeholder still holds the keys the user had before (recorded by the first apply before it
    // issued), so that key is known to be Rotor's: it is deleted and a fresh one issued; the
    // current key is untouched.
    const again = await driver.apply(spec, { ...placeholder(2), priorIds: recorded }, v1, step);
    if (!again) throw new Error('apply issued nothing');
    const ids = (await keysOf(user)).map((k) => k.id);
    expect(ids).toHaveLength(2);
    expect(ids).toEqual(expect.arrayContaining([v1.username, again.accessKeyId]));
    expect(ids).not.toContain(staged.username);
    await driver.verify(spec, asStaged(2, again), step);
  });

  it('makes room under the two-keys limit by deleting a key Rotor did not issue only when the target says staleKeys: delete, never the current one', async () => {
    const user = await managedUser();
    const spec: AwsIamAccessKeyTarget = {
      kind: 'aws_iam_access_key',
      userName: user,
      staleKeys: 'delete',
    };
    const { driver } = makeDriver();
    const v1 = await rotate(driver, spec, 1, null);
    const stray = await createKey(admin, user);

    const v2 = await rotate(driver, spec, 2, v1);
    const ids = (await keysOf(user)).map((k) => k.id);
    expect(ids.sort()).toEqual([v1.username, v2.username].sort());
    expect(ids).not.toContain(stray.accessKeyId);
    expect(await whoIs(v1)).toMatch(new RegExp(`/${user}$`));
  });

  it('refuses to rotate past a key Rotor did not issue by default, naming it and deleting nothing', async () => {
    const user = await managedUser();
    const spec: AwsIamAccessKeyTarget = { kind: 'aws_iam_access_key', userName: user };
    const { driver } = makeDriver();
    const v1 = await rotate(driver, spec, 1, null);
    const stray = await createKey(admin, user);

    const err = await failureOf(driver.apply(spec, placeholder(2), v1, stepFor()));
    expect(err.type).toBe('TargetRejected');
    expect(err.nonRetryable).toBe(true);
    expect(err.message).toContain(`${stray.accessKeyId} is not one Rotor issued`);
    expect(err.message).toMatch(/staleKeys/);
    expect((await keysOf(user)).map((k) => k.id).sort()).toEqual(
      [v1.username, stray.accessKeyId].sort(),
    );
    expect(await whoIs(v1)).toMatch(new RegExp(`/${user}$`));
  });

  it('refuses to rotate when the user has two keys and neither is the current one, deleting nothing', async () => {
    const user = await managedUser();
    const spec: AwsIamAccessKeyTarget = { kind: 'aws_iam_access_key', userName: user };
    const { driver } = makeDriver();
    const a = await createKey(admin, user);
    const b = await createKey(admin, user);

    const err = await failureOf(driver.apply(spec, placeholder(1), null, stepFor()));
    expect(err.type).toBe('TargetRejected');
    expect(err.nonRetryable).toBe(true);
    expect(err.message).toMatch(/already has two access keys/);
    expect((await keysOf(user)).map((k) => k.id).sort()).toEqual(
      [a.accessKeyId, b.accessKeyId].sort(),
    );
  });

  it('fails verify for a key that does not authenticate, and compensation deletes it while the old key keeps working', async () => {
    const user = await managedUser();
    const spec: AwsIamAccessKeyTarget = { kind: 'aws_iam_access_key', userName: user };
    const { driver } = makeDriver();
    const v1 = await rotate(driver, spec, 1, null);

    const step = stepFor();
    const issued = await driver.apply(spec, placeholder(2), v1, step);
    if (!issued) throw new Error('apply issued nothing');
    // A secret that is not the one AWS issued (as if Vault held something else).
    const wrong = { ...asStaged(2, issued), value: `${issued.secretAccessKey.slice(0, -4)}XXXX` };
    const err = await failureOf(driver.verify(spec, wrong, step));
    expect(err.type).toBe('VerificationFailed');
    expect(err.nonRetryable).toBe(false);
    expect(err.message).toMatch(/SignatureDoesNotMatch/);

    await driver.compensate(spec, asStaged(2, issued), v1, step);
    expect(await keysOf(user)).toEqual([{ id: v1.username, status: 'Active' }]);
    expect(await whoIs(v1)).toMatch(new RegExp(`/${user}$`));
    // Compensating twice is harmless.
    await driver.compensate(spec, asStaged(2, issued), v1, step);
    expect(await keysOf(user)).toEqual([{ id: v1.username, status: 'Active' }]);
  });

  it('fails verify for a key of another user, so a mixed-up Vault entry is never promoted', async () => {
    const user = await managedUser();
    const other = await managedUser();
    const { driver } = makeDriver();
    const theirs = await rotate(driver, { kind: 'aws_iam_access_key', userName: other }, 1, null);
    const err = await failureOf(
      driver.verify({ kind: 'aws_iam_access_key', userName: user }, theirs, stepFor()),
    );
    expect(err.type).toBe('VerificationFailed');
    expect(err.message).toMatch(/another principal/);
  });

  it('compensates an apply whose key never reached Vault by deleting that orphan, not the current key', async () => {
    const user = await managedUser();
    const spec: AwsIamAccessKeyTarget = { kind: 'aws_iam_access_key', userName: user };
    const { driver } = makeDriver();
    const v1 = await rotate(driver, spec, 1, null);
    const step = stepFor();
    const lost = await driver.apply(spec, placeholder(2), v1, step);
    if (!lost) throw new Error('apply issued nothing');
    issuedSecrets.add(lost.secretAccessKey);

    // Without the record of the keys before it, apply never got as far as issuing: nothing is
    // touched (the key could be anyone's).
    await driver.compensate(spec, placeholder(2), v1, step);
    expect((await keysOf(user)).map((k) => k.id).sort()).toEqual(
      [v1.username, lost.accessKeyId].sort(),
    );
    // Vault still holds the placeholder, with the keys the user had before apply issued: the key
    // that is not among them is the orphan, and goes.
    await driver.compensate(spec, { ...placeholder(2), priorIds: [v1.username ?? ''] }, v1, step);
    expect(await keysOf(user)).toEqual([{ id: v1.username, status: 'Active' }]);
  });

  it('refuses to revoke when the key Rotor holds as current is not on the user, deleting nothing', async () => {
    const user = await managedUser();
    const spec: AwsIamAccessKeyTarget = { kind: 'aws_iam_access_key', userName: user };
    const { driver } = makeDriver();
    const v1 = await rotate(driver, spec, 1, null);
    const v2 = await rotate(driver, spec, 2, v1);
    const stale: StagedCredential = { version: 3, value: 'x', username: 'AKIANOTONTHEUSER000' };

    const err = await failureOf(driver.revoke(spec, { version: 2 }, stale, stepFor()));
    expect(err.type).toBe('TargetRejected');
    expect(err.message).toMatch(/does not have the access key Rotor holds as current/);
    expect(await keysOf(user)).toHaveLength(2);

    // Told which key it revokes, revoke deletes that one only.
    await driver.revoke(spec, { version: 1, username: v1.username }, v2, stepFor());
    expect(await keysOf(user)).toEqual([{ id: v2.username, status: 'Active' }]);
  });

  it('retires by deactivating and deleting every key Rotor holds, leaving a key it did not issue', async () => {
    const user = await managedUser();
    const spec: AwsIamAccessKeyTarget = { kind: 'aws_iam_access_key', userName: user };
    const { driver } = makeDriver();
    const v1 = await rotate(driver, spec, 1, null);
    const foreign = await createKey(admin, user);
    const step = { secretId: randomUUID(), tenantId: 'acme', vaultPath: 'rotor/acme/aws' };

    await driver.retire(spec, step, [v1.username ?? '']);
    expect(await keysOf(user)).toEqual([{ id: foreign.accessKeyId, status: 'Active' }]);
    expect(await whoIs(v1)).toBe('refused: InvalidClientTokenId');
    // Retiring again finds nothing of Rotor's to do.
    await driver.retire(spec, step, [v1.username ?? '']);
    expect(await keysOf(user)).toHaveLength(1);
  });

  it('retires every key of the user when not told which Rotor holds', async () => {
    const user = await managedUser();
    const spec: AwsIamAccessKeyTarget = { kind: 'aws_iam_access_key', userName: user };
    const { driver } = makeDriver();
    const v1 = await rotate(driver, spec, 1, null);
    const v2 = await rotate(driver, spec, 2, v1);

    await driver.retire(spec, {
      secretId: randomUUID(),
      tenantId: 'acme',
      vaultPath: 'rotor/acme/aws',
    });
    expect(await keysOf(user)).toEqual([]);
    expect(await whoIs(v1)).toBe('refused: InvalidClientTokenId');
    expect(await whoIs(v2)).toBe('refused: InvalidClientTokenId');
  });

  it('names the missing privilege when Rotor’s principal may not create keys, and changes nothing', async () => {
    const user = await managedUser();
    const spec: AwsIamAccessKeyTarget = { kind: 'aws_iam_access_key', userName: user };
    const weak = await principal(`rotor-weak-${randomUUID().slice(0, 8)}`, ['iam:ListAccessKeys']);
    const { driver } = makeDriver(weak);
    const err = await failureOf(driver.apply(spec, placeholder(1), null, stepFor()));
    expect(err.type).toBe('TargetRejected');
    expect(err.nonRetryable).toBe(true);
    expect(err.message).toMatch(/iam:CreateAccessKey/);
    expect(await keysOf(user)).toEqual([]);
  });

  it('says the IAM user does not exist, as a non-retryable TargetNotFound', async () => {
    const { driver } = makeDriver();
    const err = await failureOf(
      driver.apply(
        { kind: 'aws_iam_access_key', userName: `gone-${randomUUID().slice(0, 8)}` },
        placeholder(1),
        null,
        stepFor(),
      ),
    );
    expect(err.type).toBe('TargetNotFound');
    expect(err.nonRetryable).toBe(true);
  });

  it('refuses hostile user names before any request is sent, without echoing them', async () => {
    const hostile = [
      '',
      'a'.repeat(65),
      'bob/../admin',
      'path/bob',
      'bob smith',
      "bob'; DROP",
      'bob\nAction=DeleteUser',
      'bob&UserName=admin',
      'bøb',
      'bob*',
    ];
    const { driver, calls } = makeDriver();
    const current: StagedCredential = { version: 1, value: 'x', username: 'AKIAEXAMPLE' };
    for (const userName of hostile) {
      const spec = { kind: 'aws_iam_access_key', userName } as AwsIamAccessKeyTarget;
      expect(awsIamAccessKeyTargetSchema.safeParse(spec).success).toBe(false);
      const attempts = [
        driver.apply(spec, placeholder(2), current, stepFor()),
        driver.verify(spec, current, stepFor()),
        driver.compensate(spec, current, current, stepFor()),
        driver.revoke(spec, { version: 1 }, current, stepFor()),
        driver.retire(spec, { secretId: 's', tenantId: 't', vaultPath: 'p' }),
      ];
      for (const attempt of attempts) {
        const err = await failureOf(attempt);
        expect(err.type).toBe('ValidationFailed');
        expect(err.nonRetryable).toBe(true);
        expect(err.message).toMatch(/target\.userName/);
        if (userName) expect(err.message).not.toContain(userName);
      }
    }
    expect(calls).toEqual({ iam: 0, sts: 0 });
    expect(
      awsIamAccessKeyTargetSchema.safeParse({
        kind: 'aws_iam_access_key',
        userName: 'svc+ci=1,a.b@c-d_e',
      }).success,
    ).toBe(true);
  });

  it('never lets a secret access key reach moto’s request log or Rotor’s error messages', async () => {
    // Runs last: it hunts through everything the tests above made moto log and record.
    const user = await managedUser();
    const spec: AwsIamAccessKeyTarget = { kind: 'aws_iam_access_key', userName: user };
    const { driver } = makeDriver();
    const v1 = await rotate(driver, spec, 1, null);
    const v2 = await rotate(driver, spec, 2, v1);
    await driver.revoke(spec, { version: 1, username: v1.username }, v2, stepFor());
    await driver.retire(spec, {
      secretId: randomUUID(),
      tenantId: 'acme',
      vaultPath: 'rotor/acme/aws',
    });

    const logs = await moto.logs();
    // The hunt reads real records: every request, including the signed STS calls made with the
    // secrets, is there.
    expect(logs).toContain('Action=CreateAccessKey');
    expect(logs).toContain('Action=GetCallerIdentity');
    expect(logs).toContain(v2.username);
    expect(issuedSecrets.size).toBeGreaterThanOrEqual(10);
    const messages = errorMessages.join('\n');
    expect(errorMessages.length).toBeGreaterThan(0);
    for (const secret of issuedSecrets) {
      expect(secret.length).toBeGreaterThanOrEqual(20);
      expect(logs.includes(secret)).toBe(false);
      expect(logs.includes(encodeURIComponent(secret))).toBe(false);
      expect(messages.includes(secret)).toBe(false);
    }
  });
});

describe('moto for the AWS IAM tests, when Python is missing', () => {
  it('says to install Python or moto, and how', async () => {
    const emptyTools = await mkdtemp(path.join(os.tmpdir(), 'rotor-tools-'));
    try {
      const err = await ensureMoto(silentProgress, {
        toolsDir: emptyTools,
        env: { PATH: emptyTools },
      }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DevstackError);
      expect(err).toMatchObject({ code: 'ROT_DEV_NO_PYTHON' });
      expect((err as Error).message).toMatch(/Install Python 3 .* or set MOTO_SERVER/);
    } finally {
      await rm(emptyTools, { recursive: true, force: true });
    }
  });
});
