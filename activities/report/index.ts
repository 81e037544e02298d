export { createReportActivities } from './deliver';
export type { SendSecurityReportInput, SendSecurityReportResult } from './deliver';
