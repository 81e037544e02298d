export { createMariaDbUserDriver } from './driver';
export type { MariaDbTargetDeps } from './driver';
export { nativePasswordHash } from './native-password';
export {
  MARIADB_DEFAULT_HOST,
  MARIADB_HOST_PATTERN,
  MARIADB_USER_PATTERN,
  isManageableMariaDbHost,
  isManageableMariaDbUser,
  mariaDbTargetUsers,
  mariaDbUserTargetSchema,
} from './spec';
export type { MariaDbUserTarget } from './spec';
