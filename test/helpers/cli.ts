import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { REPO } from './guest.js';

export interface CliRun {
  readonly child: ChildProcess;
  /** Resolves when the process exits. */
  readonly done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
  stdout(): string;
  stderr(): string;
  /** Resolves when stdout+stderr contain `text`; rejects after `timeoutMs`. */
  waitFor(text: string | RegExp, timeoutMs?: number): Promise<void>;
}

/**
 * A run still going after this long is killed (SIGKILL; QEMU follows through its parent-death signal), so
 * that `done` resolves with everything the run printed instead of the test timing out blind. Below the
 * 90 s timeout of the boot tests.
 */
export const CLI_KILL_AFTER_MS = 80_000;

/** Runs ./bin/vmkit with args, collecting its output. */
export function runCli(args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string; killAfterMs?: number } = {}): CliRun {
  const child = spawn(process.execPath, [join(REPO, 'bin/vmkit'), ...args], {
    cwd: opts.cwd ?? REPO,
    env: { ...process.env, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  const waiters: { test: (s: string) => boolean; resolve: () => void }[] = [];
  const check = (): void => {
    for (const w of [...waiters]) {
      if (w.test(out + err)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  };
  child.stdout?.on('data', (c: Buffer) => {
    out += c.toString();
    check();
  });
  child.stderr?.on('data', (c: Buffer) => {
    err += c.toString();
    check();
  });
  const killAfterMs = opts.killAfterMs ?? CLI_KILL_AFTER_MS;
  const started = Date.now();
  let killed = false;
  const killer = setTimeout(() => {
    killed = true;
    child.kill('SIGKILL');
  }, killAfterMs);
  killer.unref();
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve) => {
    child.on('close', (code, signal) => {
      clearTimeout(killer);
      if (killed) err += `\n[test harness] vmkit ${args.join(' ')} was still running after ${Date.now() - started} ms and was killed; the output above is all it printed\n`;
      resolve({ code, signal, stdout: out, stderr: err });
    });
  });
  return {
    child,
    done,
    stdout: () => out,
    stderr: () => err,
    waitFor(text, timeoutMs = 60_000) {
      const test = (s: string): boolean => (typeof text === 'string' ? s.includes(text) : text.test(s));
      if (test(out + err)) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${String(text)}; output so far:\n${out}\n${err}`)), timeoutMs);
        waiters.push({ test, resolve: () => { clearTimeout(timer); resolve(); } });
        void done.then(() => {
          if (!test(out + err)) {
            clearTimeout(timer);
            reject(new Error(`vmkit exited before printing ${String(text)}; output:\n${out}\n${err}`));
          }
        });
      });
    },
  };
}

/** The pids of the direct children of `pid` (from /proc; QEMU is vmkit's direct child). */
export async function childPids(pid: number): Promise<number[]> {
  const { readFile, readdir } = await import('node:fs/promises');
  const pids: number[] = [];
  for (const task of await readdir(`/proc/${pid}/task`).catch(() => [] as string[])) {
    const text = await readFile(`/proc/${pid}/task/${task}/children`, 'utf8').catch(() => '');
    pids.push(...text.split(/\s+/).filter((s) => s !== '').map(Number));
  }
  return pids;
}

/** The command line of a process, or undefined when gone. */
export async function cmdline(pid: number): Promise<string[] | undefined> {
  const { readFile } = await import('node:fs/promises');
  const text = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => undefined);
  return text === undefined || text === '' ? undefined : text.split('\0').filter((s) => s !== '');
}

/** True when the process is gone or a zombie waiting for PID 1 to reap it (it no longer runs). */
export async function isDead(pid: number): Promise<boolean> {
  const { readFile } = await import('node:fs/promises');
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  if (stat === undefined) return true;
  const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
  return state === 'Z' || state === 'X';
}

export async function waitUntil(cond: () => Promise<boolean>, timeoutMs: number, stepMs = 20): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await cond()) return true;
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

/** An assertion message with both streams of a finished run (the guest's console is on stdout). */
export function explain(r: { stdout: string; stderr: string }): string {
  return `stderr:\n${r.stderr}\nstdout:\n${r.stdout}`;
}
