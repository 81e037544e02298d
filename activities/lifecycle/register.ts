import type { Policy, RequestOrigin, SecretType } from '../../domain';
import { SecretState } from '../../domain';
import { appendAudit } from '../../audit';
import type { ActivityDeps } from '../deps';

export interface RegisterSecretInput {
  tenantId: string;
  name: string;
  type: SecretType;
  policy: Policy;
  workflowId: string;
  vaultPath: string;
  requestedBy: string;
  /** The connection the secret's target names, if any; absent in histories from before. */
  targetConnection?: string;
  /** Where the API request that created the secret came from; absent when none did. */
  origin?: RequestOrigin;
}

/** Records the secret in the engine database; idempotent by workflow id. Returns the secret id. */
export function createRegisterSecret({ db }: Pick<ActivityDeps, 'db'>) {
  return async function registerSecret(input: RegisterSecretInput): Promise<string> {
    await db
      .insertInto('tenants')
      .values({ id: input.tenantId, name: input.tenantId })
      .onConflict((oc) => oc.column('id').doNothing())
      .execute();
    await db
      .insertInto('secrets')
      .values({
        tenant_id: input.tenantId,
        name: input.name,
        type: input.type,
        policy: JSON.stringify(input.policy),
        state: SecretState.Rotating,
        workflow_id: input.workflowId,
        vault_path: input.vaultPath,
        target_connection: input.targetConnection ?? null,
        updated_at: new Date(),
      })
      .onConflict((oc) => oc.column('workflow_id').doNothing())
      .execute();
    const { id } = await db
      .selectFrom('secrets')
      .select('id')
      .where('workflow_id', '=', input.workflowId)
      .executeTakeFirstOrThrow();
    await appendAudit(db, {
      tenantId: input.tenantId,
      secretId: id,
      actor: input.requestedBy,
      action: 'secret.registered',
      outcome: 'success',
      details: { type: input.type, vaultPath: input.vaultPath },
      idempotencyKey: `${input.workflowId}:registered`,
      origin: input.origin,
    });
    return id;
  };
}
