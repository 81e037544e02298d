export { createRedisAclDriver } from './driver';
export { redisPasswordHash } from './acl';
export type { RedisAdmin, RedisTargetDeps } from './deps';
