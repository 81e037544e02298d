import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import type { Kysely } from 'kysely';
import type { Database } from '../db';
import { SecretState } from '../domain';
import type { RequestOrigin } from '../domain';
import { bulkProgressQuery, bulkRotation } from '../workflows';
import type { BulkProgress } from '../workflows';

/** How long a batch has to answer before it is reported as not found. */
const PROGRESS_DEADLINE_MS = 5_000;

const bulkWorkflowId = (batchId: string): string => `bulk/${batchId}`;

/** A batch that does not exist, or whose workflow does not answer; HTTP 404. */
export class BatchNotFoundError extends Error {
  readonly code = 'ROT_ERR_NOT_FOUND';
  readonly statusCode = 404;
  constructor() {
    super('No such batch');
    this.name = 'BatchNotFoundError';
  }
}

export interface BulkRotateDeps {
  client: Client;
  db: Kysely<Database>;
  taskQueue: string;
}

export interface BulkRotateRequest {
  /** Null: every tenant (the caller has checked that it may ask for that). */
  tenantId: string | null;
  type?: string;
  requestedBy: string;
  reason: string;
  /** Where the API request came from, recorded on each rotation the batch asks for. */
  origin?: RequestOrigin;
}

/**
 * Rotates every matching secret that is not retired, as one batch workflow that asks each
 * lifecycle in turn; returns the batch id to follow it by and how many secrets it covers.
 */
export async function startBulkRotation(
  deps: BulkRotateDeps,
  request: BulkRotateRequest,
): Promise<{ batchId: string; total: number }> {
  const { tenantId, type, requestedBy, reason, origin } = request;
  let query = deps.db
    .selectFrom('secrets')
    .select('workflow_id')
    .where('state', '!=', SecretState.Retired);
  if (tenantId) query = query.where('tenant_id', '=', tenantId);
  if (type) query = query.where('type', '=', type);
  const workflowIds = (await query.orderBy('workflow_id').execute()).map((r) => r.workflow_id);
  const batchId = randomUUID();
  await deps.client.workflow.start(bulkRotation, {
    taskQueue: deps.taskQueue,
    workflowId: bulkWorkflowId(batchId),
    args: [{ batchId, tenantId, workflowIds, requestedBy, reason, ...(origin ? { origin } : {}) }],
  });
  return { batchId, total: workflowIds.length };
}

/**
 * A batch's progress, as its workflow reports it. Bounded: a batch whose worker is gone must not
 * hold the caller open, and is reported like a missing one (BatchNotFoundError).
 */
export async function readBulkProgress(client: Client, batchId: string): Promise<BulkProgress> {
  return client
    .withDeadline(Date.now() + PROGRESS_DEADLINE_MS, () =>
      client.workflow.getHandle(bulkWorkflowId(batchId)).query(bulkProgressQuery),
    )
    .catch(() => {
      throw new BatchNotFoundError();
    });
}
