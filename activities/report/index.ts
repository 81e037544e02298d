export { buildSecurityReport } from './security-report';
export type { SecurityReport, SecurityReportOptions } from './security-report';
export { renderSecurityReport } from './render';
export { createReportActivities } from './deliver';
export type { SendSecurityReportInput, SendSecurityReportResult } from './deliver';
