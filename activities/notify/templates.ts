import type { KnownBlock } from '@slack/web-api';
import { NotificationKind } from '../../domain';
import type { Audience, NotificationEvent } from '../../domain';

export interface RenderedDigest {
  subject: string;
  text: string;
  html: string;
  blocks: KnownBlock[];
}

interface Line {
  /** One sentence naming the secret and what happened. */
  what: string;
  /** What the reader should do. */
  todo: string;
}

const when = (iso: string | null | undefined): string =>
  iso
    ? `${iso
        .replace('T', ' ')
        .replace(/\.\d+Z$/, 'Z')
        .replace(/Z$/, ' UTC')}`
    : 'not scheduled';

/** What to grant, when the target refused the rotator a privilege. */
const grant = (e: NotificationEvent): string =>
  e.missingPrivilege
    ? `The rotator lacks the ${e.missingPrivilege} privilege on the target: grant it (see the README's setup for this target). `
    : '';

/** A failure, saying only what Rotor knows to be true of the credentials afterwards. */
function failureLine(e: NotificationEvent): Line {
  const step = e.step ? `in its ${e.step} step ` : '';
  const failed = `${e.secretName} (${e.secretType}) failed ${step}(${e.errorType ?? 'unknown error'}) at ${when(e.at)}`;
  switch (e.credentials) {
    case 'reconciling':
      return {
        what: `Rotating ${failed} part-way through: Vault and the target may not agree on the current credential yet.`,
        todo: `${grant(e)}Rotor keeps retrying what is owed (undo or promote) on its own and will say when they agree; fix the outage, or retry the secret to try at once.`,
      };
    case 'previous-live':
      return {
        what: `Revoking the previous credential of ${failed}: it still works.`,
        todo: `${grant(e)}Rotor retries the revocation on its own; fix what refused it (e.g. the rotator’s privileges), or retry the secret to try at once.`,
      };
    default:
      return {
        what: `Rotating ${failed}; the old credential still works.`,
        todo: e.missingPrivilege
          ? `${grant(e)}Then retry the secret.`
          : 'Investigate, then retry the secret to rotate with a fresh value.',
      };
  }
}

/** The sentence for each kind. Exhaustive: a new kind without wording does not compile. */
const LINES: Record<NotificationEvent['kind'], (e: NotificationEvent) => Line> = {
  [NotificationKind.RotationUpcoming]: (e) => ({
    what: `${e.secretName} (${e.secretType}) will be rotated at ${when(e.nextRotationAt)}.`,
    todo: 'Make sure its consumers re-read the credential from Vault after that time.',
  }),
  [NotificationKind.RotationCompleted]: (e) => ({
    what: `${e.secretName} (${e.secretType}) was rotated to version ${e.version ?? '?'} at ${when(e.at)}.`,
    todo:
      e.previousVersion != null
        ? `Version ${e.previousVersion} keeps working until ${when(e.graceEndsAt)}; move consumers to the current version before then.`
        : 'Consumers read the current version from Vault; nothing else to do.',
  }),
  [NotificationKind.CredentialRevoked]: (e) => ({
    what: `Version ${e.version ?? '?'} of ${e.secretName} (${e.secretType}) was revoked at ${when(e.at)}.`,
    todo: 'Anything still using it now fails; it must read the current version from Vault.',
  }),
  [NotificationKind.RotationFailed]: (e) => failureLine(e),
  [NotificationKind.RotationRepaired]: (e) => ({
    what:
      e.credentials === 'old-works'
        ? `Rotation ${e.rotationId ?? '?'} of ${e.secretName} (${e.secretType}) was undone at ${when(e.at)}: the target and Vault agree on the old credential again.`
        : e.rotationId
          ? `Rotation ${e.rotationId} of ${e.secretName} (${e.secretType}) was completed at ${when(e.at)}: version ${e.version ?? '?'} is promoted and Vault and the target agree.`
          : `Version ${e.version ?? '?'} of ${e.secretName} (${e.secretType}) was revoked at ${when(e.at)}, after earlier attempts failed.`,
    todo:
      e.credentials === 'old-works'
        ? 'The rotation itself still failed: investigate, then retry the secret.'
        : 'Nothing; this closes the earlier alert.',
  }),
  [NotificationKind.ApprovalRequested]: (e) => ({
    what: `${e.requestedBy ?? 'Someone'} asked to rotate ${e.secretName} (${e.secretType}) of tenant ${e.tenantId}: "${e.reason ?? ''}". Rotation ${e.rotationId ?? '?'}.`,
    todo: `Approve or reject before ${when(e.expiresAt)}.`,
  }),
  [NotificationKind.ApprovalReminded]: (e) => ({
    what: `Still waiting: rotation ${e.rotationId ?? '?'} of ${e.secretName} (tenant ${e.tenantId}) needs a decision.`,
    todo: `Approve or reject before ${when(e.expiresAt)}.`,
  }),
  [NotificationKind.ApprovalEscalated]: (e) => ({
    what: `Escalated: rotation ${e.rotationId ?? '?'} of ${e.secretName} (tenant ${e.tenantId}) has had no decision by its deadline.`,
    todo: `A security approver must decide before ${when(e.expiresAt)}, or the rotation is skipped.`,
  }),
  [NotificationKind.ApprovalExpired]: (e) => ({
    what: `Rotation ${e.rotationId ?? '?'} of ${e.secretName} (tenant ${e.tenantId}) expired without a decision; the old credential stays.`,
    todo: `The next attempt is scheduled for ${when(e.nextRotationAt)}.`,
  }),
  [NotificationKind.BreakGlass]: (e) => ({
    what: `Break-glass: ${e.requestedBy ?? 'an admin'} forced an emergency rotation of ${e.secretName} (tenant ${e.tenantId}): "${e.reason ?? ''}".`,
    todo: 'Confirm the emergency was genuine and review who had access.',
  }),
  [NotificationKind.ValueNeeded]: (e) => ({
    what: `${e.secretName} (${e.secretType}) needs a new value from its owner.`,
    todo: `Supply it through Rotor's API (POST /api/v1/secrets/${e.tenantId}/${e.secretName}/supply) before ${when(e.expiresAt)}.`,
  }),
  [NotificationKind.ValueReminder]: (e) => ({
    what: `Reminder: ${e.secretName} (${e.secretType}) is still waiting for a new value from its owner.`,
    todo: `Supply it through Rotor's API before ${when(e.expiresAt)}.`,
  }),
  [NotificationKind.ValueOverdue]: (e) => ({
    what: `Overdue: ${e.secretName} (${e.secretType}) has had no new value since it was due; the old one stays in use.`,
    todo: `Supply it through Rotor's API now (POST /api/v1/secrets/${e.tenantId}/${e.secretName}/supply).`,
  }),
};

const TITLES: Record<Audience, string> = {
  tenant: 'Secret rotation update',
  security: 'Rotation approvals',
  ops: 'Rotation alert',
};

const escapeHtml = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** One message for a batch of events to one audience of one tenant: text, HTML and Slack blocks. */
export function renderDigest(
  tenantId: string,
  audience: Audience,
  events: NotificationEvent[],
): RenderedDigest {
  const lines = events.map((e) => LINES[e.kind](e));
  const first = events[0];
  const subject =
    events.length === 1 && first
      ? `[Rotor] ${first.secretName}: ${first.kind.replace(/[._]/g, ' ')} (tenant ${tenantId})`
      : `[Rotor] ${TITLES[audience]}: ${events.length} events for tenant ${tenantId}`;
  const text = [
    `${TITLES[audience]} for tenant ${tenantId}`,
    '',
    ...lines.flatMap((l) => [`- ${l.what}`, `  What to do: ${l.todo}`]),
    '',
    'This message never contains secret values. Read credentials from Vault.',
  ].join('\n');
  const html = [
    `<h2>${escapeHtml(TITLES[audience])} for tenant ${escapeHtml(tenantId)}</h2>`,
    '<ul>',
    ...lines.map(
      (l) =>
        `<li><p>${escapeHtml(l.what)}</p><p><strong>What to do:</strong> ${escapeHtml(l.todo)}</p></li>`,
    ),
    '</ul>',
    '<p><small>This message never contains secret values. Read credentials from Vault.</small></p>',
  ].join('\n');
  const blocks: KnownBlock[] = [
    {
      type: 'header',
      text: { type: 'plain_text', text: `${TITLES[audience]} · ${tenantId}`.slice(0, 150) },
    },
    ...lines.slice(0, 45).map((l): KnownBlock => ({
      type: 'section',
      text: { type: 'mrkdwn', text: `${l.what}\n*What to do:* ${l.todo}`.slice(0, 3000) },
    })),
    ...(lines.length > 45
      ? [
          {
            type: 'context',
            elements: [{ type: 'mrkdwn', text: `…and ${lines.length - 45} more` }],
          } as KnownBlock,
        ]
      : []),
  ];
  return { subject, text, html, blocks };
}
