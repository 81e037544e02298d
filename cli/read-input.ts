import { readFile } from 'node:fs/promises';
import { CliError } from './api-client';

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * A secret the CLI must never take as an argument (it would land in shell history and `ps`):
 * read from `file`, or from stdin when `file` is `-` or absent and stdin is not a terminal. One
 * trailing line break is dropped (what `echo` and editors add); anything else is kept as is.
 * Errors name the option, never the content.
 */
export async function readSecretInput(file: string | undefined, option: string): Promise<string> {
  let text: string;
  if (file === undefined || file === '-') {
    if (file === undefined && process.stdin.isTTY) {
      throw new CliError(
        'ROT_ERR_VALIDATION',
        `give ${option} <path>, or pipe it on stdin; a secret is never taken as an argument`,
        [],
        2,
      );
    }
    text = await readStdin();
  } else {
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      const code = (err as { code?: string }).code ?? 'unreadable';
      throw new CliError('ROT_ERR_VALIDATION', `${option}: cannot read the file (${code})`, [], 2);
    }
  }
  text = text.replace(/\r?\n$/, '');
  if (text === '') {
    throw new CliError('ROT_ERR_VALIDATION', `${option}: the input is empty`, [], 2);
  }
  return text;
}
