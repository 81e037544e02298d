import { ApplicationFailure } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { DEFAULT_APPROVAL, MAX_POLICY_SECONDS, policyFor, SecretType } from '../../domain';
import {
  isCleanText,
  isPolicyInRange,
  isValidPolicyUpdate,
  isValidRequester,
  refuseRotation,
} from '../../workflows/message-rules';

describe('the rules a lifecycle message must pass', () => {
  it('accepts a one-line requester and reason', () => {
    expect(isValidRequester({ requestedBy: 'ops', reason: 'suspected leak' })).toBe(true);
    expect(isValidRequester({ requestedBy: 'ops', reason: 'x', breakGlass: true })).toBe(true);
  });

  it('refuses NUL and every other control character, empty text, and over-long text', () => {
    for (const reason of [
      'x\u0000',
      'a\nb',
      '\u001b[31m',
      'del\u007f',
      '   ',
      '',
      'r'.repeat(501),
    ]) {
      expect(isValidRequester({ requestedBy: 'ops', reason }), JSON.stringify(reason)).toBe(false);
    }
    expect(isValidRequester({ requestedBy: 'o\u0000ps', reason: 'ok' })).toBe(false);
    expect(isCleanText('r'.repeat(500))).toBe(true);
  });

  it('refuses requests that are not objects of strings', () => {
    for (const bad of [null, undefined, 'rotate', 7, [], { requestedBy: 1, reason: 'x' }]) {
      expect(isValidRequester(bad), JSON.stringify(bad)).toBe(false);
    }
    expect(isValidRequester({ requestedBy: 'ops', reason: 'x', breakGlass: 'yes' })).toBe(false);
  });

  it('accepts a default policy update and refuses one the lifecycle could not compute with', () => {
    const policy = policyFor(SecretType.ApiKey);
    expect(isValidPolicyUpdate({ policy, requestedBy: 'ops' })).toBe(true);
    const broken = [
      { ...policy, schedule: { kind: 'interval', everySeconds: -1 } },
      { ...policy, schedule: { kind: 'cron', expression: '\u0000' } },
      { ...policy, graceSeconds: 1.5 },
      { ...policy, maxAttempts: 0 },
      { ...policy, requiresApproval: 'no' },
    ];
    for (const p of broken) {
      expect(isValidPolicyUpdate({ policy: p, requestedBy: 'ops' }), JSON.stringify(p)).toBe(false);
    }
    expect(isValidPolicyUpdate({ policy, requestedBy: '' })).toBe(false);
    expect(isValidPolicyUpdate(null)).toBe(false);
  });

  it('tells a policy whose durations every date can hold from one past MAX_POLICY_SECONDS', () => {
    const policy = policyFor(SecretType.DatabasePassword);
    expect(isPolicyInRange(policy)).toBe(true);
    expect(
      isPolicyInRange({
        ...policy,
        schedule: { kind: 'interval', everySeconds: MAX_POLICY_SECONDS },
        graceSeconds: MAX_POLICY_SECONDS,
      }),
    ).toBe(true);
    const over = MAX_POLICY_SECONDS + 1;
    const broken = [
      { ...policy, schedule: { kind: 'interval' as const, everySeconds: 1e13 } },
      { ...policy, graceSeconds: over },
      { ...policy, approval: { ...DEFAULT_APPROVAL, expireAfterSeconds: over } },
      { ...policy, approval: { ...DEFAULT_APPROVAL, remindEverySeconds: over } },
      {
        ...policy,
        supply: { remindEverySeconds: 1, deadlineSeconds: 2, expiryLeadSeconds: over },
      },
    ];
    for (const p of broken) expect(isPolicyInRange(p), JSON.stringify(p)).toBe(false);
  });

  it('refuses a rotation with a typed, non-retryable failure that carries the reason code', () => {
    let thrown: unknown;
    try {
      refuseRotation('PAUSED', 'paused');
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(ApplicationFailure);
    expect(thrown).toMatchObject({
      type: 'RotateRefused',
      nonRetryable: true,
      details: ['PAUSED'],
    });
  });
});
