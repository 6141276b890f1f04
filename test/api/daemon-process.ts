/** A `vmkit daemon` child process for tests: started through the CLI, stopped or SIGKILLed on demand. */
import { runCli, type CliRun } from '../helpers/cli.js';

export interface DaemonProc {
  readonly pid: number;
  readonly socket: string;
  readonly root: string;
  readonly run: CliRun;
  /** The daemon's ready line (what it adopted, what died). */
  readonly ready: { adopted: string[]; diedUnmonitored: string[]; killed: string[] };
  /** SIGTERM and wait: VMs keep running. */
  stop(): Promise<number | null>;
  /** SIGKILL and wait. */
  kill9(): Promise<void>;
}

export async function spawnDaemon(socket: string, root: string, args: string[] = []): Promise<DaemonProc> {
  const run = runCli(['daemon', '--socket', socket, '--root', root, '--json', ...args]);
  await run.waitFor(/^\}$/m, 30_000);
  const ready = JSON.parse(run.stdout()) as DaemonProc['ready'] & { pid: number };
  return {
    pid: ready.pid,
    socket,
    root,
    run,
    ready,
    async stop() {
      run.child.kill('SIGTERM');
      return (await run.done).code;
    },
    async kill9() {
      run.child.kill('SIGKILL');
      await run.done;
    },
  };
}
