import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { SMTPServer } from 'smtp-server';
import { DevstackError } from './errors';

export interface DevMailbox {
  url: string;
  dir: string;
  stop(): Promise<void>;
}

/**
 * A real SMTP server on loopback for `npm start`: every message Rotor sends is filed as an .eml
 * in `dir`, readable with any mail client. Plain SMTP, loopback only, no authentication.
 */
export async function startDevMailbox(options: { port: number; dir: string }): Promise<DevMailbox> {
  await mkdir(options.dir, { recursive: true });
  let count = 0;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, _session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        count += 1;
        const file = path.join(
          options.dir,
          `${new Date().toISOString().replace(/[:.]/g, '-')}-${count}.eml`,
        );
        writeFile(file, Buffer.concat(chunks)).then(
          () => callback(),
          (err: Error) => callback(err),
        );
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        new DevstackError(
          'ROT_DEV_PORT_IN_USE',
          `Port ${options.port} (dev SMTP) is unavailable: ${err.code ?? err.message}.`,
          'Choose another port with ROTOR_DEV_SMTP_PORT=<port>.',
        ),
      ),
    );
    server.listen(options.port, '127.0.0.1', () => resolve());
  });
  return {
    url: `smtp://127.0.0.1:${options.port}`,
    dir: options.dir,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
