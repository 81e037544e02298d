// The connection shapes are declared where engine/ builds them; the drivers use them from here.
export type { ConnectionResolver } from '../../engine/target-deps';
