import type { WebClient } from '@slack/web-api';
import type { Kysely } from 'kysely';
import type { Transporter } from 'nodemailer';
import type { NotificationConfig } from '../../config';
import type { Database } from '../../db/schema';
import type { NotifierWakeups } from './wakeups';

/** What delivery needs: a mail transport and a Slack client when configured, and where to send. */
export interface NotifyDeps {
  db: Kysely<Database>;
  config: NotificationConfig;
  mailer?: Pick<Transporter, 'sendMail'>;
  slack?: Pick<WebClient, 'chat'>;
  /** The worker's owed-wake-up retrier (workers/worker.ts builds it over its Temporal client). */
  wakeups?: NotifierWakeups;
}
