import { ApplicationFailure } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { checkBreakGlass, checkDecision } from '../../workflows/approval-rules';
import type { PendingApproval } from '../../workflows';

const pending: PendingApproval = {
  rotationId: 'r-1',
  requestedBy: 'alice#00000001',
  reason: 'quarterly',
  requestedAt: '2026-11-25T00:00:00.000Z',
  escalatesAt: '2026-11-26T00:00:00.000Z',
  expiresAt: '2026-11-28T00:00:00.000Z',
  quorum: 2,
  approvals: ['bob#00000002'],
  escalated: false,
};
const security = (approver: string) => ({ approver, roles: ['security'], rotationId: 'r-1' });

/** The refusal's message, or null when the decision passes. */
function refusal(run: () => void): string | null {
  try {
    run();
    return null;
  } catch (err) {
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect((err as ApplicationFailure).type).toBe('ApprovalRefused');
    return (err as ApplicationFailure).message;
  }
}

describe('the rules an approval, a rejection or a break-glass must pass', () => {
  it('accept a security approver who is not the requester and has not approved yet', () => {
    expect(
      refusal(() => checkDecision(pending, [], security('carol#00000003'), 'approve')),
    ).toBeNull();
    expect(
      refusal(() =>
        checkDecision(pending, [], { ...security('carol#00000003'), reason: 'freeze' }, 'reject'),
      ),
    ).toBeNull();
  });

  it('refuse the requester deciding on their own rotation (separation of duties), by subject', () => {
    expect(
      refusal(() => checkDecision(pending, [], security('alice#00000001'), 'approve')),
    ).toMatch(/separation of duties/);
    // Another token of the same display name is another subject: not the requester.
    expect(
      refusal(() => checkDecision(pending, [], security('alice#00000009'), 'approve')),
    ).toBeNull();
  });

  it('refuse a second approval by the same approver, and a decision without the security role', () => {
    expect(refusal(() => checkDecision(pending, [], security('bob#00000002'), 'approve'))).toMatch(
      /already approved/,
    );
    expect(
      refusal(() =>
        checkDecision(
          pending,
          [],
          { ...security('carol#00000003'), roles: ['operator'] },
          'approve',
        ),
      ),
    ).toMatch(/security role/);
    expect(refusal(() => checkDecision(pending, [], security(''), 'approve'))).toMatch(/approver/);
  });

  it('refuse a decision for another, an expired or no pending rotation, and a rejection without a reason', () => {
    const other = { ...security('carol#00000003'), rotationId: 'r-0' };
    expect(refusal(() => checkDecision(pending, [], other, 'approve'))).toMatch(
      /awaiting approval/,
    );
    expect(refusal(() => checkDecision(pending, ['r-0'], other, 'approve'))).toMatch(/expired/);
    expect(refusal(() => checkDecision(null, [], security('carol#00000003'), 'approve'))).toMatch(
      /no rotation/,
    );
    expect(
      refusal(() =>
        checkDecision(pending, [], { ...security('carol#00000003'), reason: '  ' }, 'reject'),
      ),
    ).toMatch(/reason/);
  });

  it('let only an admin break the glass, and only with a reason', () => {
    const request = { requestedBy: 'root#00000004', roles: ['admin'], reason: 'leak' };
    expect(refusal(() => checkBreakGlass(request))).toBeNull();
    expect(refusal(() => checkBreakGlass({ ...request, roles: ['operator'] }))).toMatch(/admin/);
    expect(refusal(() => checkBreakGlass({ ...request, reason: ' ' }))).toMatch(/reason/);
  });
});
