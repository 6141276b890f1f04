/**
 * The CLI's entry point (bin/vmkit): `vmkit --version` answers at once; everything else loads the command
 * line parser (main.ts), which loads each command's implementation when it runs.
 */
import { VERSION } from './version.js';

export async function main(argv: string[]): Promise<number> {
  const args = argv.slice(2);
  if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
    process.stdout.write(`${VERSION}\n`);
    return 0;
  }
  const cli = await import('./main.js');
  return cli.main(argv);
}
