import { ApplicationFailure } from '@temporalio/common';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import type { Client } from '@temporalio/client';
import type { Kysely } from 'kysely';
import { appendAudit } from '../audit';
import type { Database } from '../db';
import { ErrorType, SecretState } from '../domain';
import type { RequestOrigin } from '../domain';
import { approveUpdate, breakGlassUpdate, rejectUpdate, statusQuery } from '../workflows';
import type {
  ApproveRequest,
  BreakGlassRequest,
  DecisionResult,
  PendingApproval,
  RejectRequest,
} from '../workflows';
import { toLifecycle } from './lifecycle';

/** A decision the workflow refused (wrong role, self-approval, stale or expired rotation…). */
export class ApprovalRefusedError extends Error {
  readonly code = 'ROT_ERR_APPROVAL_REFUSED';
  readonly statusCode = 409;
  constructor(message: string) {
    super(message);
    this.name = 'ApprovalRefusedError';
  }
}

export interface ApprovalDeps {
  client: Client;
  db: Kysely<Database>;
}

/**
 * Sends a decision as a Temporal Update and waits for the workflow's answer. A refusal leaves no
 * trace in workflow history, so it is audited here, where the API and CLI both pass. A lifecycle
 * that has ended is a LifecycleNotRunningError.
 */
async function send<T>(
  deps: ApprovalDeps,
  workflowId: string,
  actor: string,
  action: string,
  rotationId: string | null,
  origin: RequestOrigin | undefined,
  run: () => Promise<T>,
): Promise<T> {
  try {
    return await toLifecycle(run);
  } catch (err) {
    const cause = err instanceof WorkflowUpdateFailedError ? err.cause : undefined;
    if (!(cause instanceof ApplicationFailure) || cause.type !== ErrorType.ApprovalRefused)
      throw err;
    const secret = await deps.db
      .selectFrom('secrets')
      .select(['id', 'tenant_id'])
      .where('workflow_id', '=', workflowId)
      .executeTakeFirst();
    await appendAudit(deps.db, {
      tenantId: secret?.tenant_id ?? null,
      secretId: secret?.id ?? null,
      rotationId,
      actor,
      action,
      outcome: 'refused',
      details: { why: cause.message },
      idempotencyKey: `${action}:${globalThis.crypto.randomUUID()}`,
      origin,
    });
    throw new ApprovalRefusedError(cause.message);
  }
}

export function approveRotation(
  deps: ApprovalDeps,
  workflowId: string,
  request: ApproveRequest,
  options: { updateId?: string } = {},
): Promise<DecisionResult> {
  return send(
    deps,
    workflowId,
    request.approver,
    'approval.refused',
    request.rotationId,
    request.origin,
    () =>
      deps.client.workflow.getHandle(workflowId).executeUpdate(approveUpdate, {
        args: [request],
        ...(options.updateId ? { updateId: options.updateId } : {}),
      }),
  );
}

export function rejectRotation(
  deps: ApprovalDeps,
  workflowId: string,
  request: RejectRequest,
): Promise<DecisionResult> {
  return send(
    deps,
    workflowId,
    request.approver,
    'approval.refused',
    request.rotationId,
    request.origin,
    () =>
      deps.client.workflow.getHandle(workflowId).executeUpdate(rejectUpdate, { args: [request] }),
  );
}

export function breakGlassRotate(
  deps: ApprovalDeps,
  workflowId: string,
  request: BreakGlassRequest,
): Promise<{ accepted: true }> {
  return send(
    deps,
    workflowId,
    request.requestedBy,
    'break_glass.refused',
    null,
    request.origin,
    () =>
      deps.client.workflow
        .getHandle(workflowId)
        .executeUpdate(breakGlassUpdate, { args: [request] }),
  );
}

export interface PendingApprovalView extends PendingApproval {
  workflowId: string;
  tenantId: string;
  name: string;
  type: string;
}

/** How long one workflow's status query may take before it is reported as unreachable. */
const STATUS_QUERY_DEADLINE_MS = 5_000;
/** Status queries in flight at once. */
const QUERY_BATCH = 20;

export interface PendingApprovals {
  items: PendingApprovalView[];
  /**
   * Workflows waiting for approval whose status could not be read (no worker polling their task
   * queue, or a query timing out): listed so they are not silently missing.
   */
  unreachable: string[];
}

/**
 * Every rotation waiting for security, found the way ops find them in the Web UI
 * (RotationState="AWAITING_APPROVAL"), with the context each workflow reports. One workflow that
 * cannot answer (its worker is down) is reported in `unreachable` instead of failing the list.
 */
export async function findPendingApprovals(
  client: Client,
  filter: { tenantId?: string; limit?: number } = {},
): Promise<PendingApprovals> {
  const clauses = [
    `RotationState = '${SecretState.AwaitingApproval}'`,
    `ExecutionStatus = 'Running'`,
  ];
  if (filter.tenantId) clauses.push(`TenantId = '${filter.tenantId.replace(/'/g, '')}'`);
  const workflowIds: string[] = [];
  for await (const execution of client.workflow.list({ query: clauses.join(' AND ') })) {
    // Each one costs a query to its workflow, so a listing stops at the page size.
    if (filter.limit !== undefined && workflowIds.length >= filter.limit) break;
    workflowIds.push(execution.workflowId);
  }
  const result: PendingApprovals = { items: [], unreachable: [] };
  for (let i = 0; i < workflowIds.length; i += QUERY_BATCH) {
    const batch = workflowIds.slice(i, i + QUERY_BATCH);
    const statuses = await Promise.allSettled(
      batch.map((id) =>
        client.withDeadline(Date.now() + STATUS_QUERY_DEADLINE_MS, () =>
          client.workflow.getHandle(id).query(statusQuery),
        ),
      ),
    );
    statuses.forEach((settled, j) => {
      const workflowId = batch[j] ?? '';
      if (settled.status === 'rejected') {
        result.unreachable.push(workflowId);
        return;
      }
      const status = settled.value;
      if (!status.pendingApproval) return; // decided since the visibility store was updated
      result.items.push({
        ...status.pendingApproval,
        workflowId,
        tenantId: status.tenantId,
        name: status.name,
        type: status.type,
      });
    });
  }
  return result;
}

/** The pending approvals that could be read (see findPendingApprovals for the unreachable). */
export async function listPendingApprovals(
  client: Client,
  filter: { tenantId?: string; limit?: number } = {},
): Promise<PendingApprovalView[]> {
  return (await findPendingApprovals(client, filter)).items;
}
