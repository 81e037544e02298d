// Declared where engine/ builds them; the Redis driver uses them from here.
export type { RedisAdmin, RedisTargetDeps } from '../../../engine/target-deps';
