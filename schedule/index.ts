export { isValidCron, isValidTimeZone, nextRotationAt } from './next-rotation';
export { earliestInWindow } from './window';
