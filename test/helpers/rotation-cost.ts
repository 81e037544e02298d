import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { pollUntil } from './poll';

const { EventType } = temporal.api.enums.v1;
type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

/** What one stretch of a workflow's history cost the Temporal server. */
export interface RotationCost {
  /** Regular activities scheduled (each a task dispatched through the server, and retried there). */
  activities: number;
  /** Local activities run inside a workflow task (one marker event each). */
  localActivities: number;
  /** Workflow tasks completed: each is a round trip from the server to the worker and back. */
  workflowTasks: number;
  /** History events written. */
  events: number;
}

/** Counts the cost of a slice of history events (see `historyEvents`). */
export function costOf(events: HistoryEvent[]): RotationCost {
  const count = (
    type: temporal.api.enums.v1.EventType,
    also: (e: HistoryEvent) => boolean = () => true,
  ) => events.filter((e) => e.eventType === type && also(e)).length;
  return {
    activities: count(EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED),
    localActivities: count(
      EventType.EVENT_TYPE_MARKER_RECORDED,
      (e) => e.markerRecordedEventAttributes?.markerName === 'core_local_activity',
    ),
    workflowTasks: count(EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED),
    events: events.length,
  };
}

/** The names of the regular and local activities in a slice, in order (for messages). */
export function activityNames(events: HistoryEvent[]): string[] {
  return events.flatMap((e) => {
    const scheduled = e.activityTaskScheduledEventAttributes?.activityType?.name;
    if (scheduled) return [scheduled];
    const local = localMarker(e);
    if (local) return [`local:${local.activity_type}`];
    return [];
  });
}

/**
 * The attempt on which each activity of a slice ended, by name (local ones as `local:<name>`):
 * how often a step ran before its answer was recorded.
 */
export function finalAttempts(events: HistoryEvent[]): Record<string, number> {
  const names = new Map<string, string>();
  const out: Record<string, number> = {};
  for (const e of events) {
    const scheduled = e.activityTaskScheduledEventAttributes?.activityType?.name;
    if (scheduled) names.set(String(e.eventId), scheduled);
    const started = e.activityTaskStartedEventAttributes;
    const name = started ? names.get(String(started.scheduledEventId)) : undefined;
    if (started && name) out[name] = started.attempt ?? 1;
    const local = localMarker(e);
    if (local) out[`local:${local.activity_type}`] = local.attempt;
  }
  return out;
}

/** A local activity's marker data (JSON written by the SDK's core), or null for other events. */
function localMarker(e: HistoryEvent): { activity_type: string; attempt: number } | null {
  const marker = e.markerRecordedEventAttributes;
  if (marker?.markerName !== 'core_local_activity') return null;
  const data = marker.details?.data?.payloads?.[0]?.data;
  const parsed = (data ? JSON.parse(Buffer.from(data).toString('utf8')) : {}) as {
    activity_type?: unknown;
    attempt?: unknown;
  };
  return {
    activity_type: typeof parsed.activity_type === 'string' ? parsed.activity_type : '?',
    attempt: typeof parsed.attempt === 'number' ? parsed.attempt : 1,
  };
}

/** The current run's history events, read once the workflow is waiting again. */
export async function settledHistory(client: Client, workflowId: string): Promise<HistoryEvent[]> {
  let previous = -1;
  const history = await pollUntil(
    `${workflowId} to be waiting with no task or activity open`,
    async () => (await client.workflow.getHandle(workflowId).fetchHistory()).events ?? [],
    (events) => {
      const stable = events.length === previous;
      previous = events.length;
      const open =
        events.filter((e) => e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED).length -
        events.filter(
          (e) =>
            e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED ||
            e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED ||
            e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT ||
            e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_CANCELED,
        ).length;
      const last = events.at(-1)?.eventType;
      return (
        stable &&
        open === 0 &&
        last !== EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED &&
        last !== EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED
      );
    },
    { interval: 300 },
  );
  return history;
}

/**
 * The cost of one rotation: the events a lifecycle adds from a request (`before`, its history
 * while it waited for it) until it waits again (`after`). Both come from `settledHistory`.
 */
export function rotationCost(before: HistoryEvent[], after: HistoryEvent[]): RotationCost {
  return costOf(after.slice(before.length));
}
