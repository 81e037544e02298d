// The spec lives in domain/ with the other target kinds; re-exported for the driver's folder.
export {
  MARIADB_DEFAULT_HOST,
  MARIADB_HOST_PATTERN,
  MARIADB_USER_PATTERN,
  isManageableMariaDbHost,
  isManageableMariaDbUser,
  mariaDbTargetUsers,
} from '../../../domain';
export type { MariaDbUserTarget } from '../../../domain';
export { mariaDbUserTargetSchema } from '../../../domain/target-schemas';
