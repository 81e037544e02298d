export { buildSecurityReport } from './security-report';
export type { SecurityReport, SecurityReportOptions } from './security-report';
export { renderSecurityReport } from './render';
export type { RenderedReport } from './render';
export { countBulkOutcomes } from './bulk-outcomes';
export type { BulkCounts, BulkOutcomes } from './bulk-outcomes';
