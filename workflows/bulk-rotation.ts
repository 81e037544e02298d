import {
  condition,
  continueAsNew,
  defineQuery,
  getExternalWorkflowHandle,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  allHandlersFinished,
  sleep,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import { bookkeepingLocalOptions, bookkeepingOptions } from './activity-options';
import { asActivityFailures } from './local-activity-failures';
import type { RequestOrigin } from '../domain';
import { rotateNowSignal } from './messages';

export interface BulkRotationInput {
  batchId: string;
  /** The tenant the batch was limited to, for access checks on its progress (null: all). */
  tenantId: string | null;
  workflowIds: string[];
  requestedBy: string;
  reason: string;
  /** Where the API request for the batch came from, for each rotation's audit rows. */
  origin?: RequestOrigin;
  /** Set by continueAsNew: the signals are sent once. */
  signalled?: { requested: number; unreachable: number };
}

export interface BulkProgress {
  batchId: string;
  tenantId: string | null;
  total: number;
  requested: number;
  /** Secrets whose workflow could not be signalled (retired or gone). */
  unreachable: number;
  completed: number;
  failed: number;
  awaitingApproval: number;
  /** Rotations of supplied types waiting for their owner's value. */
  awaitingValue: number;
  /** Every requested rotation has completed, failed, or waits for a human (approval or value). */
  done: boolean;
  /**
   * Every requested rotation has completed or failed. Progress is counted from the rotation
   * rows whenever it is read, so a rotation approved later is counted as completed, not left
   * as awaiting approval.
   */
  finished: boolean;
}

export const bulkProgressQuery = defineQuery<BulkProgress>('progress');

/**
 * Whether `requested` rotations have all settled, from their counts by outcome: one rule for the
 * batch's own count (code from before 0020) and the API's count from the database.
 */
export function bulkSettled(
  counts: Pick<BulkProgress, 'completed' | 'failed' | 'awaitingApproval' | 'awaitingValue'>,
  requested: number,
): Pick<BulkProgress, 'done' | 'finished'> {
  const final = counts.completed + counts.failed;
  return {
    done: final + counts.awaitingApproval + counts.awaitingValue >= requested,
    finished: final >= requested,
  };
}

const acts = proxyActivities<Activities>(bookkeepingOptions);
/**
 * Local: the record is written by the worker that runs the batch, so it never queues behind the
 * thousands of rotation activities the batch has just asked for.
 */
const localActs = asActivityFailures(proxyLocalActivities<Activities>(bookkeepingLocalOptions));

/**
 * Batches that ask every secret, record how many they reached in the batch row and end: the API
 * counts progress from the rotation rows itself (migration 0020). Before it, a batch counted its
 * own rotations every 2 s with an activity that, in a large emergency, waited behind the very
 * rotations it counted, so progress read 0 until the end.
 */
export const BULK_PROGRESS_IN_DB_PATCH = 'bulk-progress-in-db-v1';

/** The tag every rotation of a batch carries in its reason, so progress can be counted. */
export const bulkReason = (reason: string, batchId: string): string =>
  `${reason} (bulk ${batchId})`;

const POLL_MS = 2000;
/** Once every rotation is done or waits for a human, counting slows down to this. */
const SETTLED_POLL_MS = 15_000;
const POLLS_PER_RUN = 300;

/**
 * "Rotate everything for tenant X now": asks each secret to rotate and records how many it
 * reached. Its result is that moment's progress; the API reads the rest from the database.
 */
export async function bulkRotation(input: BulkRotationInput): Promise<BulkProgress> {
  const progress: BulkProgress = {
    batchId: input.batchId,
    tenantId: input.tenantId,
    total: input.workflowIds.length,
    requested: input.signalled?.requested ?? 0,
    unreachable: input.signalled?.unreachable ?? 0,
    completed: 0,
    failed: 0,
    awaitingApproval: 0,
    awaitingValue: 0,
    done: false,
    finished: false,
  };
  setHandler(bulkProgressQuery, () => progress);

  if (!input.signalled) {
    const request = {
      requestedBy: input.requestedBy,
      reason: bulkReason(input.reason, input.batchId),
      bulkId: input.batchId,
      // An argument only: the signals sent are the same commands as before.
      ...(input.origin ? { origin: input.origin } : {}),
    };
    for (let i = 0; i < input.workflowIds.length; i += 50) {
      const chunk = input.workflowIds.slice(i, i + 50);
      const results = await Promise.allSettled(
        chunk.map((id) => getExternalWorkflowHandle(id).signal(rotateNowSignal, request)),
      );
      progress.requested += results.filter((r) => r.status === 'fulfilled').length;
      progress.unreachable += results.filter((r) => r.status === 'rejected').length;
    }
  }

  if (patched(BULK_PROGRESS_IN_DB_PATCH)) {
    await localActs
      .recordBulkSignalled({
        batchId: input.batchId,
        tenantId: input.tenantId,
        total: progress.total,
        requestedBy: input.requestedBy,
        requested: progress.requested,
        unreachable: progress.unreachable,
      })
      // The engine database down past the retry budget: the rotations asked for go on, and the
      // API reads how many were asked from this workflow's progress query instead.
      .catch(() => undefined);
    return progress;
  }

  for (let polls = 0; ; polls += 1) {
    const counts = await acts.countBulkOutcomes({ batchId: input.batchId });
    Object.assign(progress, counts, bulkSettled(counts, progress.requested));
    if (progress.finished) return progress;
    if (polls >= POLLS_PER_RUN) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof bulkRotation>({
        ...input,
        signalled: { requested: progress.requested, unreachable: progress.unreachable },
      });
    }
    await sleep(progress.done ? SETTLED_POLL_MS : POLL_MS);
  }
}
