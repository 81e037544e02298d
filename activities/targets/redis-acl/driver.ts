import { ApplicationFailure } from '@temporalio/common';
import { ErrorType, targetRedisUsers } from '../../../domain';
import type { RedisAclTarget } from '../../../domain';
import type { StagedCredential, TargetDriver } from '../driver';
import { assertManageableUser, getUser, redisPasswordHash, requireUser, setUser } from './acl';
import type { RedisTargetDeps } from './deps';

/**
 * Redis (6+) and Valkey ACL users. Passwords go to the server only as `#<sha256>` rules, so the
 * plaintext never crosses the wire nor reaches MONITOR or SLOWLOG; only verification's AUTH
 * carries it, as every consumer's login does. A Redis user may hold several passwords, so the
 * single strategy adds the new one beside the old, and revoke leaves only the current one.
 */
export function createRedisAclDriver(
  resolve: (spec: RedisAclTarget) => Promise<RedisTargetDeps>,
): TargetDriver<RedisAclTarget> {
  const userOf = (spec: RedisAclTarget, staged: StagedCredential): string =>
    spec.strategy === 'single' ? spec.user : (staged.username ?? spec.users[0]);
  /** Checks every user the spec names before any connection is made. */
  const open = async (spec: RedisAclTarget): Promise<RedisTargetDeps> => {
    for (const user of targetRedisUsers(spec)) assertManageableUser(user, '');
    const deps = await resolve(spec);
    for (const user of targetRedisUsers(spec)) assertManageableUser(user, deps.rotatorUser);
    return deps;
  };
  const switchOff = (deps: RedisTargetDeps, users: string[]): Promise<void> =>
    deps.withAdmin(async (admin) => {
      for (const user of users) {
        // Nothing to switch off; retiring must not fail on it.
        if (await getUser(admin, user)) await setUser(admin, user, 'off', 'resetpass');
      }
    });

  return {
    oldStopsAtApply() {
      // Single keeps the old password beside the new one; alternating uses the other user.
      return false;
    },

    stageFields(spec, current) {
      if (spec.strategy === 'single') return { fields: { username: spec.user } };
      const [a, b] = spec.users;
      return { fields: { username: current?.username === a ? b : a } };
    },

    async apply(spec, staged) {
      const deps = await open(spec);
      const user = userOf(spec, staged);
      const hash = redisPasswordHash(staged.value);
      await deps.withAdmin(async (admin) => {
        await requireUser(admin, user);
        // Alternating: the standby user holds nothing worth keeping (its password was revoked).
        if (spec.strategy === 'single') await setUser(admin, user, 'on', `#${hash}`);
        else await setUser(admin, user, 'on', 'resetpass', `#${hash}`);
      });
    },

    async verify(spec, staged) {
      const deps = await open(spec);
      const user = userOf(spec, staged);
      try {
        await deps.login(user, staged.value);
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        const wrong = message.startsWith('WRONGPASS');
        throw ApplicationFailure.retryable(
          `logging in to Redis as ${user} with the staged password failed (${wrong ? 'WRONGPASS' : 'connection error'})`,
          wrong ? ErrorType.VerificationFailed : ErrorType.TargetRejected,
        );
      }
    },

    async compensate(spec, staged, current) {
      const deps = await open(spec);
      const user = userOf(spec, staged);
      if (spec.strategy === 'alternating') {
        // The standby took the failed password; consumers are on the other user. Switch it off.
        if (current?.username !== user) await switchOff(deps, [user]);
        return;
      }
      // Single: take back only the password apply added; the one consumers hold stays.
      const hash = redisPasswordHash(staged.value);
      await deps.withAdmin(async (admin) => {
        const found = await getUser(admin, user);
        if (found?.passwords.includes(hash)) await setUser(admin, user, `!${hash}`);
      });
    },

    async revoke(spec, _revoked, current) {
      if (!current) return;
      const deps = await open(spec);
      if (spec.strategy === 'alternating') {
        if (!current.username) return;
        await switchOff(
          deps,
          spec.users.filter((u) => u !== current.username),
        );
        return;
      }
      // One atomic ACL SETUSER: drop every password, keep the current one. Consumers holding the
      // current password never see a moment without it.
      const hash = redisPasswordHash(current.value);
      await deps.withAdmin(async (admin) => {
        await requireUser(admin, spec.user);
        await setUser(admin, spec.user, 'resetpass', `#${hash}`);
      });
    },

    async retire(spec) {
      await switchOff(await open(spec), targetRedisUsers(spec));
    },
  };
}
