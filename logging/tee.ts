import { mkdirSync } from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import type { DestinationStream, Level } from 'pino';

/**
 * Every line to a file, and the lines at `consoleLevel` and above to stdout: `npm start` keeps
 * its terminal to the banner and warnings, while the worker's and API's full logs stay in the
 * state folder for when something needs explaining.
 */
export function fileAndConsole(file: string, consoleLevel: Level | 'silent'): DestinationStream {
  mkdirSync(path.dirname(file), { recursive: true });
  return pino.multistream([
    { level: 'trace', stream: pino.destination({ dest: file, sync: true, append: true }) },
    ...(consoleLevel === 'silent'
      ? []
      : [{ level: consoleLevel, stream: pino.destination({ fd: 1, sync: true }) }]),
  ]);
}
