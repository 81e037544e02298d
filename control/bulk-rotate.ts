import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import type { Kysely } from 'kysely';
import type { Database } from '../db';
import { SecretState } from '../domain';
import type { RequestOrigin } from '../domain';
import { countBulkOutcomes } from '../reports';
import { bulkProgressQuery, bulkRotation, bulkSettled } from '../workflows';
import type { BulkProgress } from '../workflows';

/** How long a batch with no row (begun before 0020) has to answer before it reads as not found. */
const PROGRESS_DEADLINE_MS = 5_000;
/**
 * How long a batch still asking its secrets has to say how far it got. Shorter: the rest of the
 * answer comes from the database, and a Temporal outage must not hold progress up for long.
 */
const ASKING_DEADLINE_MS = 2_000;

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
 * lifecycle in turn; returns the batch id to follow it by and how many secrets it covers. The
 * batch's row is written first, so its progress can be read from then on, whatever Temporal does.
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
  await deps.db
    .insertInto('bulk_batches')
    .values({
      id: batchId,
      tenant_id: tenantId,
      total: workflowIds.length,
      requested_by: requestedBy,
    })
    .execute();
  try {
    await deps.client.workflow.start(bulkRotation, {
      taskQueue: deps.taskQueue,
      workflowId: bulkWorkflowId(batchId),
      args: [
        { batchId, tenantId, workflowIds, requestedBy, reason, ...(origin ? { origin } : {}) },
      ],
    });
  } catch (err) {
    // No batch was started: leave no row that would read as a batch forever asking.
    await deps.db
      .deleteFrom('bulk_batches')
      .where('id', '=', batchId)
      .execute()
      .catch(() => undefined);
    throw err;
  }
  return { batchId, total: workflowIds.length };
}

const queryBatch = (client: Client, batchId: string, deadlineMs: number): Promise<BulkProgress> =>
  client.withDeadline(Date.now() + deadlineMs, () =>
    client.workflow.getHandle(bulkWorkflowId(batchId)).query(bulkProgressQuery),
  );

export interface BulkProgressDeps {
  client: Client;
  db: Kysely<Database>;
}

/**
 * A batch's progress, counted from its rotation rows at the moment of asking: it keeps up during
 * a large emergency and answers while Temporal is down. Only how many secrets a batch has asked
 * so far lives in its workflow until it records them; without that answer, the rotations begun
 * count as asked, and the batch is neither done nor finished until every secret's rotation has
 * begun. A batch begun before the batch row existed is read from its workflow, bounded
 * (BatchNotFoundError if it does not answer).
 */
export async function readBulkProgress(
  deps: BulkProgressDeps,
  batchId: string,
): Promise<BulkProgress> {
  const batch = await deps.db
    .selectFrom('bulk_batches')
    .selectAll()
    .where('id', '=', batchId)
    .executeTakeFirst();
  if (!batch) {
    return queryBatch(deps.client, batchId, PROGRESS_DEADLINE_MS).catch(() => {
      throw new BatchNotFoundError();
    });
  }
  const { begun, ...counts } = await countBulkOutcomes(deps.db, batchId);
  const asked =
    batch.requested !== null && batch.unreachable !== null
      ? { requested: batch.requested, unreachable: batch.unreachable }
      : await queryBatch(deps.client, batchId, ASKING_DEADLINE_MS).catch(() => null);
  const requested = asked?.requested ?? begun;
  const unreachable = asked?.unreachable ?? 0;
  const allAsked = requested + unreachable >= batch.total;
  const settled = bulkSettled(counts, requested);
  return {
    batchId,
    tenantId: batch.tenant_id,
    total: batch.total,
    requested,
    unreachable,
    ...counts,
    done: allAsked && settled.done,
    finished: allAsked && settled.finished,
  };
}
