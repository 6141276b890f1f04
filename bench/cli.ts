/**
 * CLI start-up benchmarks (issue 13), whole processes, alternating A/B in one run after warm-ups:
 *  - `vmkit --version` against `node -e 0`;
 *  - `vmkit list --all -c embed:///ROOT` with 10 defined domains against `node -e 0`;
 *  - `vmkit run` of the tiny guest (TCG, boot to power-off) against the same QEMU argv run bare.
 * vmkit runs as a user runs it: `bin/vmkit ...` executed (its `#!` line starts node with the flags it wants;
 * it runs the bundle); the baseline is `node -e 0` with the same node.
 * Bare QEMU gets exactly the argv `vmkit argv --json` prints, with the run directory it names; it needs
 * someone on its QMP and console sockets (vmkit adds them, and `-S`), so the bare side creates the
 * directory, listens on both, sends `cont` (QMP handshake included), reads the console to its end, waits for
 * QEMU's exit and removes the directory: the work vmkit does around the same QEMU, without vmkit.
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { QmpListener } from '../src/qmp/index.js';
import { REPO, tinyYaml } from '../test/helpers/guest.js';
import { alternate, type Row } from './stats.js';

const VMKIT = join(REPO, 'bin/vmkit');
const RUN_DIR = '$VMKIT_RUN_DIR';

export interface CliBenchOptions {
  /** Measured runs per side (after one warm-up each). */
  readonly runs: number;
  readonly log?: (line: string) => void;
}

/** Runs `command args` to its end; resolves with the wall time in ms. Fails on a non-zero exit. */
function timed(command: string, args: readonly string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(command, args, { cwd: REPO, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const ms = performance.now() - t0;
      if (code === 0) resolve(ms);
      else reject(new Error(`${command} ${args.join(' ')} exited with ${code ?? signal}: ${err.slice(-2000)}`));
    });
  });
}

function output(command: string, args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`${command} ${args.join(' ')} exited with ${String(code)}: ${err}`))));
  });
}

/**
 * Bare QEMU on vmkit's argv: create the run directory, listen on its QMP and console sockets, spawn, let the
 * guest run (`cont` after the handshake), read the console to EOF, wait for the exit, remove the directory.
 */
async function bareQemu(binary: string, argvTemplate: readonly string[]): Promise<number> {
  const t0 = performance.now();
  const dir = await mkdtemp(join(tmpdir(), 'vmkit-bench-bare-'));
  const argv = argvTemplate.map((a) => a.replaceAll(RUN_DIR, dir));
  // The run directory's layout (src/process/state-dir.ts): QMP in it, pid file and console under q/.
  await mkdir(join(dir, 'q'));
  const qmpL = await QmpListener.listen(join(dir, 'qmp.sock'));
  let consoleDone: Promise<void> = Promise.resolve();
  const consoleServer = createServer((s: Socket) => {
    consoleDone = new Promise<void>((r) => {
      s.on('data', () => undefined);
      s.on('close', () => r());
    });
  });
  await new Promise<void>((r) => consoleServer.listen(join(dir, 'q', 'console.sock'), r));
  const child = spawn(binary, argv, { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
  try {
    const qmp = await qmpL.accept({ timeoutMs: 30_000 });
    await qmpL.close();
    consoleServer.close();
    await qmp.execute('cont');
    const code = await exited;
    await consoleDone;
    await qmp.close().catch(() => undefined);
    if (code !== 0) throw new Error(`bare QEMU exited with ${String(code)}: ${err}`);
    await rm(dir, { recursive: true, force: true });
    return performance.now() - t0;
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await qmpL.close();
    consoleServer.close();
    await rm(dir, { recursive: true, force: true });
  }
}

export async function cliBench(opts: CliBenchOptions): Promise<{ rows: Row[]; markdown: string }> {
  const log = opts.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const node = process.execPath;
  const base = await mkdtemp(join(tmpdir(), 'vmkit-bench-cli-'));
  try {
    const rows: Row[] = [];
    const nodeBare = (): Promise<number> => timed(node, ['-e', '0']);
    rows.push(await alternate('`vmkit --version` vs `node -e 0`', 1.3, opts.runs, nodeBare, () => timed(VMKIT, ['--version']), log));

    const root = join(base, 'root');
    const files: string[] = [];
    for (let i = 0; i < 10; i++) {
      const f = join(base, `cli-${i}.yaml`);
      await writeFile(f, tinyYaml({ name: `cli-${i}` }));
      files.push(f);
    }
    await output(node, [VMKIT, 'define', '-c', `embed://${root}`, ...files]);
    const listed = JSON.parse(await output(node, [VMKIT, 'list', '--all', '--json', '-c', `embed://${root}`])) as unknown[];
    if (listed.length !== 10) throw new Error(`expected 10 defined domains, vmkit list shows ${listed.length}`);
    rows.push(await alternate('`vmkit list --all -c embed:///ROOT` (10 domains) vs `node -e 0`', 1.6, opts.runs, nodeBare, () => timed(VMKIT, ['list', '--all', '-c', `embed://${root}`]), log));

    const guest = join(base, 'tiny.yaml');
    await writeFile(guest, tinyYaml({ name: 'bench-cli-run', action: 'poweroff' }));
    const plan = JSON.parse(await output(node, [VMKIT, 'argv', '--json', guest])) as { binary: string; argv: string[]; accel: string };
    if (plan.accel !== 'tcg') throw new Error(`the tiny guest runs under TCG here, vmkit argv says ${plan.accel}`);
    rows.push(
      await alternate(
        '`vmkit run` tiny guest, boot to power-off (tcg) vs its QEMU argv run bare',
        1.05,
        opts.runs,
        () => bareQemu(plan.binary, plan.argv),
        () => timed(VMKIT, ['run', guest]),
        log,
      ),
    );
    // What no Node program can beat: its own start (`node -e 0`, measured in this run) added to bare QEMU.
    const nodeStart = (rows[0] as Row).bare.median;
    const run = rows[rows.length - 1] as Row;
    const floor = (run.bare.median + nodeStart) / run.bare.median;
    const markdown = [
      'Whole processes, `bin/vmkit ...` executed (the bundle) against `node -e 0`, and `vmkit run` against bare QEMU',
      'on the argv `vmkit argv --json` prints (bare: run directory, QMP and console listeners, `cont`, console to',
      'EOF, exit, clean-up). ',
      '',
      `Floor of the \`run\` ratio for any Node program: (bare QEMU ${run.bare.median.toFixed(1)} ms + \`node -e 0\` ${nodeStart.toFixed(1)} ms) / bare = ${floor.toFixed(3)}; ` +
        `vmkit adds ${(run.vmkit.median - run.bare.median - nodeStart).toFixed(1)} ms beyond Node's own start.`,
    ].join('\n');
    return { rows, markdown };
  } finally {
    await rm(base, { recursive: true, force: true });
  }
}
