export { appendAudit } from './append';
export type { AuditEntry } from './append';
export { GENESIS_HASH, auditHash, canonicalJson } from './chain';
export { verifyAuditTrail, ChainBreakReason } from './verify';
export type { ChainBreak, ChainResult, VerifyReport } from './verify';
export { archiveAuditEvents, AuditChainBrokenError } from './archive';
export type { ArchiveResult, ArchivedChain } from './archive';
