import type { KnownBlock } from '@slack/web-api';
import type { ReportSecret, SecurityReport } from './security-report';

export interface RenderedReport {
  subject: string;
  text: string;
  html: string;
  blocks: KnownBlock[];
}

const when = (iso: string | null): string =>
  iso ? iso.replace('T', ' ').replace(/\.\d+Z$/, ' UTC') : 'not scheduled';

const escapeHtml = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

const secretLine = (s: ReportSecret, time: 'due' | 'error'): string =>
  time === 'due'
    ? `${s.tenantId}/${s.name} (${s.type}, ${s.state}): due ${when(s.nextRotationAt)}`
    : `${s.tenantId}/${s.name} (${s.type}): ${s.lastErrorType ?? 'error unknown'}, since rotation was last attempted${
        // Revoke clears the previous version only once it worked: set here, that credential is live.
        s.previousVersion === null ? '' : `; previous version ${s.previousVersion} still works`
      }`;

/** Sections as titled lists of sentences, shared by the email and Slack forms. */
function sections(r: SecurityReport): { title: string; lines: string[]; more: number }[] {
  const a = r.approvals;
  return [
    {
      title: `Overdue for rotation (${r.totals.overdue})`,
      lines: r.overdue.map((s) => secretLine(s, 'due')),
      more: r.totals.overdue - r.overdue.length,
    },
    {
      title: `Needs attention (${r.totals.needsAttention})`,
      lines: r.needsAttention.map((s) => secretLine(s, 'error')),
      more: r.totals.needsAttention - r.needsAttention.length,
    },
    {
      title: `Failed rotations in the window (${r.totals.failedRotations})`,
      lines: r.failedRotations.map(
        (f) =>
          `${f.tenantId}/${f.name}: rotation ${f.rotationId} ${f.status.toLowerCase()} (${f.errorType ?? 'no error type'}) at ${when(f.at)}`,
      ),
      more: r.totals.failedRotations - r.failedRotations.length,
    },
    {
      title: `Due before ${when(r.dueBefore)} (${r.totals.expiringSoon})`,
      lines: r.expiringSoon.map((s) => secretLine(s, 'due')),
      more: r.totals.expiringSoon - r.expiringSoon.length,
    },
    {
      title: 'Approvals in the window',
      lines: [
        `${a.requested} requested: ${a.approved} approved, ${a.rejected} rejected, ${a.expired} expired, ${a.pending} still pending.`,
        a.medianSecondsToDecision === null
          ? 'No decisions to time.'
          : `Median time to decision: ${Math.round(a.medianSecondsToDecision / 60)} min (${a.medianSecondsToDecision} s).`,
      ],
      more: 0,
    },
    {
      title: 'Who did what in the window',
      lines: r.access.map(
        (x) =>
          `${x.actor}: ${x.action} ×${x.count} on ${x.secrets} secret${x.secrets === 1 ? '' : 's'}, last ${when(x.lastAt)}`,
      ),
      more: 0,
    },
    {
      title: 'Audit trail',
      lines: [
        r.auditIntegrity.ok
          ? `Intact: ${r.auditIntegrity.chains} chains, ${r.auditIntegrity.rows} rows verified.`
          : `BROKEN (${r.auditIntegrity.firstBreak?.tenantId ?? 'system events'}, ${r.auditIntegrity.firstBreak?.source ?? '?'}): ${r.auditIntegrity.firstBreak?.message ?? ''}. Investigate now.`,
      ],
      more: 0,
    },
  ];
}

/** The security report as an email (text and HTML) and Slack blocks. Never a secret value. */
export function renderSecurityReport(r: SecurityReport): RenderedReport {
  const scope = r.tenantId ? `tenant ${r.tenantId}` : 'all tenants';
  const headline = `${r.totals.overdue} overdue, ${r.totals.needsAttention} need attention, ${r.totals.failedRotations} failed, ${r.totals.expiringSoon} due soon`;
  const subject = `[Rotor] ${r.auditIntegrity.ok ? '' : 'AUDIT CHAIN BROKEN · '}Security report (${scope}): ${headline}`;
  const parts = sections(r);
  const intro = `Security report for ${scope}, ${when(r.window.since)} to ${when(r.window.until)}.`;
  const text = [
    intro,
    '',
    ...parts.flatMap((p) => [
      p.title,
      ...(p.lines.length ? p.lines.map((l) => `- ${l}`) : ['- none']),
      ...(p.more > 0 ? [`- …and ${p.more} more (see GET /api/v1/reports/security)`] : []),
      '',
    ]),
    'This message never contains secret values.',
  ].join('\n');
  const html = [
    `<h2>${escapeHtml(intro)}</h2>`,
    ...parts.flatMap((p) => [
      `<h3>${escapeHtml(p.title)}</h3>`,
      '<ul>',
      ...(p.lines.length ? p.lines : ['none']).map((l) => `<li>${escapeHtml(l)}</li>`),
      ...(p.more > 0 ? [`<li>…and ${p.more} more</li>`] : []),
      '</ul>',
    ]),
    '<p><small>This message never contains secret values.</small></p>',
  ].join('\n');
  const blocks: KnownBlock[] = [
    {
      type: 'header',
      text: { type: 'plain_text', text: `Security report · ${scope}`.slice(0, 150) },
    },
    ...parts.map((p): KnownBlock => ({
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: [
          `*${p.title}*`,
          ...(p.lines.length ? p.lines.slice(0, 20) : ['none']).map((l) => `• ${l}`),
          ...(p.lines.length > 20 || p.more > 0
            ? [`…and ${p.lines.length - Math.min(p.lines.length, 20) + p.more} more`]
            : []),
        ]
          .join('\n')
          .slice(0, 3000),
      },
    })),
  ];
  return { subject, text, html, blocks };
}
