import { Command, CommanderError } from 'commander';
import { EXIT } from './exit-codes.js';

/** Builds the CLI. Commands import their implementation lazily so `vmkit --help` stays fast. */
export function buildProgram(setExit: (code: number) => void): Command {
  const program = new Command('vmkit')
    .description('Embeddable QEMU/KVM virtual machine manager')
    .version(VERSION)
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();

  program
    .command('run')
    .description('run one VM from FILE, embedded, and return when it ends (exit 0 when the guest powers off)')
    .argument('<file>', 'definition: native YAML, qemu-launcher YAML (a bare name is looked up in $QEMU_LAUNCHER_CONFIG_DIR)')
    .option('--console', 'attach the serial console to this terminal (otherwise it goes to the log)')
    .option('--grace <seconds>', 'on Ctrl-C/SIGTERM, seconds to wait for the ACPI power-off before stopping QEMU', '30')
    .option('--timeout <seconds>', 'bound on QEMU start-up, until the guest runs', '30')
    .option('--log <file>', 'append the serial console and QEMU messages to FILE')
    .option('--debug', 'print the tuning plan (pinning, schedulers, limits) applied before the guest runs')
    .option('--lenient', 'libvirt XML: warn about unsupported elements and leave them out instead of refusing the file')
    .option('--json', 'print the outcome as JSON')
    .action(async (file: string, flags) => {
      const { runCommand } = await import('./commands/run.js');
      setExit(await runCommand(file, flags));
    });

  program
    .command('argv')
    .description('print the QEMU command line that run would use, one argument per line')
    .argument('<file>', 'definition file')
    .option('--lenient', 'libvirt XML: warn about unsupported elements and leave them out instead of refusing the file')
    .option('--json', 'print as JSON')
    .action(async (file: string, flags) => {
      const { argvCommand } = await import('./commands/argv.js');
      setExit(await argvCommand(file, flags));
    });

  program
    .command('validate')
    .description('check a definition and report every problem with file:line:col (exit 2 if any)')
    .argument('<file>', 'definition file')
    .option('--no-host', 'check the file only, not against this host\'s QEMU binary')
    .option('--lenient', 'libvirt XML: warn about unsupported elements and leave them out instead of refusing the file')
    .option('--json', 'print as JSON')
    .action(async (file: string, flags) => {
      const { validateCommand } = await import('./commands/validate.js');
      setExit(await validateCommand(file, flags));
    });

  const host = program.command('host').description('facts about this host: QEMU capabilities and virtualization readiness');

  host
    .command('caps')
    .description('print what a QEMU binary offers (machines, CPU models, devices, backends), probed once and cached')
    .option('--binary <path>', 'QEMU binary: a name on PATH or a path', 'qemu-system-x86_64')
    .option('--json', 'print as JSON')
    .action(async (flags) => {
      const { hostCapsCommand } = await import('./commands/host-caps.js');
      setExit(await hostCapsCommand(flags));
    });

  host
    .command('validate')
    .description('check this host for running VMs: PASS / WARN / FAIL with a remedy each (exit 1 if any FAIL)')
    .option('--json', 'print as JSON')
    .action(async (flags) => {
      const { hostValidateCommand } = await import('./commands/host-validate.js');
      setExit(await hostValidateCommand(flags));
    });

  return program;
}

export const VERSION = '0.1.0';

export async function main(argv: string[]): Promise<number> {
  let code: number = EXIT.ok;
  const program = buildProgram((c) => {
    code = c;
  });
  try {
    await program.parseAsync(argv);
  } catch (e) {
    if (e instanceof CommanderError) {
      // help and version exit 0; usage errors are bad input
      return e.exitCode === 0 ? EXIT.ok : EXIT.badInput;
    }
    throw e;
  }
  return code;
}

