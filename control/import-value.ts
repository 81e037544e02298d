import { randomUUID } from 'node:crypto';
import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowIdConflictPolicy,
  WorkflowNotFoundError,
} from '@temporalio/client';
import type { Client, WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import {
  ErrorType,
  SecretType,
  TargetKind,
  secretStagingPath,
  secretVaultPath,
  secretWorkflowId,
} from '../domain';
import type { VaultKv } from '../vault';
import { readStaged, writeStaged } from '../vault';
import { secretLifecycle } from '../workflows';
import { ValidationError } from './errors';
import type { StartSecretRequest } from './start-secret';
import { checkSuppliedValue } from './validate-supplied';
import type { CheckedValue } from './validate-supplied';

/** A create naming a secret that is already managed; its value is left alone. HTTP 409. */
export class AlreadyManagedError extends Error {
  readonly code = 'ROT_ERR_ALREADY_MANAGED';
  readonly statusCode = 409;
  constructor(message: string) {
    super(message);
    this.name = 'AlreadyManagedError';
  }
}

/** An initial value is written to Vault by this API process, which needs a Vault client. */
export class ImportNotConfiguredError extends Error {
  readonly code = 'ROT_ERR_NOT_CONFIGURED';
  readonly statusCode = 503;
  constructor() {
    super('This API process has no Vault client');
    this.name = 'ImportNotConfiguredError';
  }
}

export type ImportVault = Pick<VaultKv, 'metadata' | 'read' | 'write' | 'setLabels' | 'deleteAll'>;

/**
 * The shortest value accepted per type: Rotor generates 32 characters or bytes, and an imported
 * value is kept until the first rotation, so a weak one is refused rather than managed.
 */
const MIN_LENGTH: Record<SecretType, number> = {
  [SecretType.ApiKey]: 16,
  [SecretType.DatabasePassword]: 12,
  [SecretType.ServiceToken]: 16,
  [SecretType.EncryptionKey]: 0,
  [SecretType.JwtSecret]: 32,
  [SecretType.WebhookSecret]: 16,
  [SecretType.OauthClientSecret]: 16,
  [SecretType.TlsCertificate]: 0,
};

/** AES key sizes: an encryption key is base64 of one of them, as Rotor generates them. */
const KEY_BYTES = new Set([16, 24, 32]);

const fail = (message: string): never => {
  throw new ValidationError([{ field: 'initialValue', message }]);
};

/**
 * Checks an initial value against its type's rules. Messages name the field and the rule, never
 * the value. Certificates get the supplied-value check (parses, key matches, not expired).
 */
export function checkInitialValue(
  type: SecretType,
  value: string,
  privateKey: string | undefined,
  maxValueBytes: number,
): CheckedValue {
  if (type === SecretType.TlsCertificate) {
    try {
      return checkSuppliedValue(
        type,
        { value, ...(privateKey === undefined ? {} : { privateKey }) },
        maxValueBytes,
      );
    } catch (err) {
      // The supplied-value check names value/privateKey; here they are initialValue/initialPrivateKey.
      if (err instanceof ValidationError) {
        throw new ValidationError(
          err.issues.map((i) => ({
            field: i.field === 'privateKey' ? 'initialPrivateKey' : 'initialValue',
            message: i.message,
          })),
        );
      }
      throw err;
    }
  }
  if (privateKey !== undefined) {
    throw new ValidationError([
      { field: 'initialPrivateKey', message: 'applies only to tls_certificate' },
    ]);
  }
  // One line of printable text: consumers read it into environment variables and headers.
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(value))
    fail('must not contain control characters or line breaks');
  if (value.trim() !== value) fail('must not start or end with white space');
  if ([...value].length < MIN_LENGTH[type])
    fail(`must be at least ${MIN_LENGTH[type]} characters for ${type}`);
  if (type === SecretType.EncryptionKey) {
    const base64 = /^[A-Za-z0-9+/]+={0,2}$/.test(value) && value.length % 4 === 0;
    if (!base64 || !KEY_BYTES.has(Buffer.from(value, 'base64').length))
      fail('must be base64 of a 16, 24 or 32 byte key');
  }
  return checkSuppliedValue(type, { value }, maxValueBytes);
}

/**
 * Starts a lifecycle whose first version is an existing value: the value is staged in Vault here
 * (where consumers cannot read it), and the workflow gets only the rotation id and version
 * number, then verifies and promotes it like any supplied value. A secret already managed is
 * refused, so an import never replaces a live credential.
 */
export async function importSecret(
  client: Client,
  taskQueue: string,
  vault: ImportVault,
  request: StartSecretRequest,
  checked: CheckedValue,
): Promise<WorkflowHandleWithFirstExecutionRunId<typeof secretLifecycle>> {
  const workflowId = secretWorkflowId(request.tenantId, request.name);
  const running = await client.workflow
    .getHandle(workflowId)
    .describe()
    .then((d) => d.status.name === 'RUNNING')
    .catch((err: unknown) => {
      if (err instanceof WorkflowNotFoundError) return false;
      throw err;
    });
  if (running) throw new AlreadyManagedError('this secret is already managed; nothing imported');
  const meta = await vault.metadata(secretVaultPath(request.tenantId, request.name));
  if (meta.latestVersion > 0) {
    throw new AlreadyManagedError(
      "Vault already holds versions at this secret's path; nothing imported",
    );
  }
  const rotationId = randomUUID();
  const stagingPath = secretStagingPath(request.tenantId, request.name);
  // Check-and-set on an empty staging path: of two imports of one new secret exactly one stages
  // its value, and a value another rotation staged is never replaced.
  // A PostgreSQL role's login goes with the password, as a generated first version has it (the
  // single role, or the first of an alternating pair, which apply then sets).
  const spec = request.target;
  const username =
    spec?.kind === TargetKind.PostgresRole
      ? spec.strategy === 'single'
        ? spec.role
        : spec.roles[0]
      : undefined;
  const data = username === undefined ? checked.data : { ...checked.data, username };
  const version = await writeStaged(vault, stagingPath, rotationId, 1, data, 0).catch(
    (err: unknown) => {
      if (err instanceof ApplicationFailure && err.type === ErrorType.VaultVersionConflict)
        throw new AlreadyManagedError(
          'a value is already staged for this secret; nothing imported',
        );
      throw err;
    },
  );
  try {
    // FAIL, not USE_EXISTING: a lifecycle started meanwhile must not be answered as this import.
    return await client.workflow.start(secretLifecycle, {
      taskQueue,
      workflowId,
      workflowIdConflictPolicy: WorkflowIdConflictPolicy.FAIL,
      args: [
        {
          ...request,
          vaultPath: secretVaultPath(request.tenantId, request.name),
          imported: { rotationId, version, expiresAt: checked.expiresAt },
        },
      ],
    });
  } catch (err) {
    // Only this import's own staged value is removed, never one a rotation staged since.
    if ((await readStaged(vault, stagingPath, rotationId).catch(() => null)) !== null)
      await vault.deleteAll(stagingPath).catch(() => undefined);
    if (err instanceof WorkflowExecutionAlreadyStartedError)
      throw new AlreadyManagedError('this secret is already managed; nothing imported');
    throw err;
  }
}
