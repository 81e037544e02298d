export { isValidCron, isValidTimeZone, nextRotationAt } from './next-rotation';
