import type { Client, WorkflowHandle } from '@temporalio/client';
import { SecretType, policyFor, secretVaultPath, secretWorkflowId } from '../../domain';
import type { Policy, TargetSpec } from '../../domain';
import { secretLifecycle, statusQuery } from '../../workflows';
import type { SecretStatus } from '../../workflows';

/** Starts a secret's lifecycle with test-sized durations (seconds, not days). */
export async function startSecret(
  client: Client,
  taskQueue: string,
  options: {
    tenantId: string;
    name: string;
    type?: SecretType;
    policy?: Partial<Policy>;
    target?: TargetSpec;
  },
): Promise<WorkflowHandle<typeof secretLifecycle>> {
  const type = options.type ?? SecretType.ApiKey;
  return client.workflow.start(secretLifecycle, {
    taskQueue,
    workflowId: secretWorkflowId(options.tenantId, options.name),
    args: [
      {
        tenantId: options.tenantId,
        name: options.name,
        type,
        policy: policyFor(type, {
          schedule: { kind: 'interval', everySeconds: 3600 },
          graceSeconds: 1,
          maxAttempts: 2,
          ...options.policy,
        }),
        vaultPath: secretVaultPath(options.tenantId, options.name),
        requestedBy: 'test',
        ...(options.target ? { target: options.target } : {}),
      },
    ],
  });
}

/** Polls the status query (following continueAsNew) until `accept` holds; returns that status. */
export async function waitForStatus(
  client: Client,
  workflowId: string,
  accept: (s: SecretStatus) => boolean,
  timeout = 60_000,
): Promise<SecretStatus> {
  // A plain loop rather than expect.poll, so it also works in beforeAll.
  const deadline = Date.now() + timeout;
  let last: SecretStatus | undefined;
  while (Date.now() < deadline) {
    // Without a run id the handle follows continueAsNew to the newest run.
    last = await client.workflow.getHandle(workflowId).query(statusQuery);
    if (accept(last)) return last;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(
    `${workflowId} did not reach the expected status in ${timeout} ms; last: ${JSON.stringify(last)}`,
  );
}
