import { ApplicationFailure } from '@temporalio/common';
import { ErrorType } from '../../domain';
import type { NotifyDeps } from '../notify/deps';
import { buildSecurityReport, renderSecurityReport } from '../../reports';

export interface SendSecurityReportInput {
  /** Unique per scheduled run: a retried activity does not send a channel twice. */
  reportId: string;
  windowSeconds: number;
  dueWithinSeconds: number;
}

export type ChannelOutcome = 'sent' | 'already sent' | 'not configured';

export interface SendSecurityReportResult {
  email: ChannelOutcome;
  slack: ChannelOutcome;
  overdue: number;
  auditIntact: boolean;
}

/** notification_deliveries rows need a tenant; the report covers every tenant. */
const ALL_TENANTS = '*';

export function createReportActivities(deps: NotifyDeps) {
  const key = (reportId: string, channel: 'email' | 'slack') =>
    `${reportId}:security-report:${channel}`;

  const alreadySent = async (reportId: string, channel: 'email' | 'slack') =>
    (await deps.db
      .selectFrom('notification_deliveries')
      .select('id')
      .where('idempotency_key', '=', key(reportId, channel))
      .where('status', '=', 'sent')
      .executeTakeFirst()) !== undefined;

  const record = async (
    reportId: string,
    channel: 'email' | 'slack',
    outcome: { status: 'sent' } | { status: 'failed'; error: string },
  ) => {
    await deps.db
      .insertInto('notification_deliveries')
      .values({
        tenant_id: ALL_TENANTS,
        audience: 'security',
        channel,
        status: outcome.status,
        event_count: 1,
        events: JSON.stringify([{ kind: 'security.report', reportId }]),
        error: outcome.status === 'failed' ? outcome.error.slice(0, 500) : null,
        idempotency_key: key(reportId, channel),
      })
      .onConflict((oc) => oc.column('idempotency_key').doNothing())
      .execute();
  };

  return {
    /**
     * Builds the security report and sends it to security's email recipients and Slack channel
     * (ROTOR_SECURITY_*), over the same clients as every other notification.
     */
    async sendSecurityReport(input: SendSecurityReportInput): Promise<SendSecurityReportResult> {
      const report = await buildSecurityReport(deps.db, {
        windowSeconds: input.windowSeconds,
        dueWithinSeconds: input.dueWithinSeconds,
      });
      const rendered = renderSecurityReport(report);
      const result: SendSecurityReportResult = {
        email: 'not configured',
        slack: 'not configured',
        overdue: report.totals.overdue,
        auditIntact: report.auditIntegrity.ok,
      };

      const to = deps.config.security.emails;
      if (deps.mailer && deps.config.smtp && to.length > 0) {
        if (await alreadySent(input.reportId, 'email')) result.email = 'already sent';
        else {
          try {
            await deps.mailer.sendMail({
              from: deps.config.smtp.from,
              to,
              subject: rendered.subject,
              text: rendered.text,
              html: rendered.html,
              headers: { 'X-Rotor-Report': input.reportId },
            });
          } catch (err) {
            const e = err as { code?: string; responseCode?: number };
            throw ApplicationFailure.retryable(
              `email delivery failed (${e.code ?? 'EUNKNOWN'}${e.responseCode ? ` ${e.responseCode}` : ''})`,
              ErrorType.NotificationDeliveryFailed,
            );
          }
          await record(input.reportId, 'email', { status: 'sent' });
          result.email = 'sent';
        }
      }

      const channel = deps.config.security.slackChannel;
      if (deps.slack && channel) {
        if (await alreadySent(input.reportId, 'slack')) result.slack = 'already sent';
        else {
          try {
            await deps.slack.chat.postMessage({
              channel,
              text: rendered.subject,
              blocks: rendered.blocks,
            });
          } catch (err) {
            const code =
              (err as { data?: { error?: string }; code?: string }).data?.error ??
              (err as { code?: string }).code ??
              'unknown';
            throw ApplicationFailure.retryable(
              `Slack delivery failed (${code})`,
              ErrorType.NotificationDeliveryFailed,
            );
          }
          await record(input.reportId, 'slack', { status: 'sent' });
          result.slack = 'sent';
        }
      }
      return result;
    },

    /** The report could not be delivered after every retry: kept, counted, visible. */
    async recordSecurityReportFailure(input: { reportId: string; error: string }): Promise<void> {
      const configured = {
        email: !!(deps.mailer && deps.config.smtp && deps.config.security.emails.length > 0),
        slack: !!(deps.slack && deps.config.security.slackChannel),
      };
      for (const channel of ['email', 'slack'] as const) {
        if (configured[channel] && !(await alreadySent(input.reportId, channel)))
          await record(input.reportId, channel, { status: 'failed', error: input.error });
      }
    },
  };
}
