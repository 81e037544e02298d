import type { Command } from 'commander';
import { printObject } from '../output';
import { readSecretInput } from '../read-input';
import type { CliContext } from './context';

/** `rotor api-keys verify`: check a tenant API key Rotor issued (read from a file or stdin). */
export function registerApiKeyCommands(program: Command, ctx: CliContext): void {
  program
    .command('api-keys')
    .description('tenant API keys issued by Rotor')
    .command('verify')
    .description(
      'verify a tenant API key (current, or previous during grace); the key is read from a file or stdin, never an argument',
    )
    .option('--key-file <path>', 'the key; "-" or omitted: stdin')
    .action(async (o: { keyFile?: string }) => {
      const key = await readSecretInput(o.keyFile, '--key-file');
      const res = await ctx.api().request<{ valid: boolean }>('POST', '/api/v1/api-keys/verify', {
        key,
      });
      printObject(res, ctx.json());
      if (!res.valid) process.exitCode = 1;
    });
}
