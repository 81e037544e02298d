import vm from 'node:vm';
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { ms, percentile } from './report';

/**
 * Where one unloaded rotate-now spends its time, step by step: on the Temporal path from the
 * workflow's own history (event times are the server's, the same clock as the bench's request
 * time on this machine), on the baseline by timing each direct call. Printed as the median of
 * each step over the unloaded rotations, so the per-process CPU lines get a per-step companion.
 */
export class StepTimes {
  private readonly samples = new Map<string, number[]>();

  readonly record = (step: string, millis: number): void => {
    const list = this.samples.get(step) ?? [];
    list.push(millis);
    this.samples.set(step, list);
  };

  /** `step p50 · step p50 …` in the order the steps first happened. */
  summary(): string {
    return [...this.samples]
      .map(([step, values]) => `${step} ${ms(percentile(values, 50))}`)
      .join(' · ');
  }
}

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;
const EventType = temporal.api.enums.v1.EventType;

function at(event: HistoryEvent): number {
  const t = event.eventTime;
  return Number(t?.seconds ?? 0) * 1000 + (t?.nanos ?? 0) / 1e6;
}

/**
 * The steps of the last rotate-now in a lifecycle's history: from the request to the workflow
 * task that takes the Update, each workflow task (queued, then on the worker, with the local
 * activities it ran), each activity (queued, then running), up to the workflow task that handles
 * the promoting activity's result. Step names carry their position, so the same rotation on
 * another secret lands in the same rows.
 */
export async function recordHistorySteps(
  client: Client,
  workflowId: string,
  requestedAt: number,
  steps: StepTimes,
): Promise<void> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const events = history.events ?? [];
  const accepted = events.findLastIndex(
    (e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED,
  );
  // The workflow task that took the Update is the one completed just before its acceptance.
  const first = events.findLastIndex(
    (e, i) => i < accepted && e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
  );
  if (accepted < 0 || first < 0) return;
  const activityNames = new Map<string, string>();
  let task = 0;
  let taskStarted = 0;
  let localActivities = 0;
  let promoted = false;
  steps.record('request → workflow task', at(events[first] as HistoryEvent) - requestedAt);
  for (let i = first; i < events.length; i++) {
    const e = events[i] as HistoryEvent;
    const previous = events[i - 1] as HistoryEvent;
    switch (e.eventType) {
      case EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED:
        task += 1;
        taskStarted = at(e);
        localActivities = 0;
        if (task > 1) steps.record(`task ${task} queued`, at(e) - at(previous));
        break;
      case EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
        // Local activities run inside the task; their markers follow its completion.
        for (let j = i + 1; j < events.length; j++) {
          const next = events[j] as HistoryEvent;
          if (next.eventType === EventType.EVENT_TYPE_MARKER_RECORDED) {
            if (next.markerRecordedEventAttributes?.markerName === 'core_local_activity')
              localActivities += 1;
          } else if (next.eventType !== EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES) {
            break;
          }
        }
        steps.record(
          `task ${task} on the worker${localActivities ? ` (${localActivities} local activities)` : ''}`,
          at(e) - taskStarted,
        );
        if (promoted) return;
        break;
      case EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
        activityNames.set(
          String(e.eventId),
          e.activityTaskScheduledEventAttributes?.activityType?.name ?? 'activity',
        );
        break;
      case EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED: {
        const name = activityNames.get(
          String(e.activityTaskStartedEventAttributes?.scheduledEventId),
        );
        steps.record(`${name} queued`, at(e) - at(previous));
        break;
      }
      case EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED: {
        const name = activityNames.get(
          String(e.activityTaskCompletedEventAttributes?.scheduledEventId),
        );
        steps.record(name ?? 'activity', at(e) - at(previous));
        if (name === 'promoteVersion') promoted = true;
        break;
      }
      default:
        break;
    }
  }
}

/**
 * What entering a workflow's sandbox costs on this machine. The SDK runs every call into a
 * workflow's V8 context with its deadlock timeout set, and Node enforces a vm timeout with a
 * watchdog thread created for each call; several calls make one activation.
 */
export function sandboxEntryMicros(): { withTimeout: number; without: number } {
  const context = vm.createContext({ n: 0 });
  const script = new vm.Script('n++');
  const time = (options: vm.RunningScriptOptions, calls: number): number => {
    const started = process.hrtime.bigint();
    for (let i = 0; i < calls; i++) script.runInContext(context, options);
    return Number(process.hrtime.bigint() - started) / calls / 1000;
  };
  return { withTimeout: time({ timeout: 5000 }, 2000), without: time({}, 20000) };
}
