/**
 * Save and restore (libvirt's managedsave): `save` pauses the guest, migrates it into a socket vmkit
 * serves, which writes the stream to `<root>/saved/<name>.save`, then stops QEMU; the domain is `saved`.
 * The next `start` restores it: QEMU starts with `-incoming defer`, vmkit feeds the file into the socket
 * QEMU listens on, and the guest goes on from where it was (paused if it was paused). Progress goes out
 * as `progress` events. The file is removed once the restore succeeded; a failed restore keeps it.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { VmkitError } from '../errors.js';
import type { Domain, IncomingRun } from '../driver/domain.js';
import type { VmProcess } from '../driver/vm-process.js';
import { syncDir } from '../driver/atomic-file.js';
import { watchMigration } from './migrate-progress.js';
import { receiveToFile, sendFile } from './stream-file.js';
import type { JobProgress, SavedState } from './types.js';

export interface SaveOptions {
  /** Bound on writing the state (default 10 min). */
  readonly timeoutMs?: number;
  readonly onProgress?: (p: JobProgress) => void;
}

export interface SaveResult {
  readonly file: string;
  readonly bytes: number;
  readonly paused: boolean;
  readonly progress: JobProgress;
}

/** The directory of saved states of a root. */
export function savedDir(root: string): string {
  return join(root, 'saved');
}

/** The account QEMU runs as (the owner of its run directory's q/). */
async function qemuOwner(vm: VmProcess): Promise<{ uid: number; gid: number } | undefined> {
  const st = await stat(vm.runDir.qemuDir);
  return st.uid === process.geteuid?.() ? undefined : { uid: st.uid, gid: st.gid };
}

/** Saves the guest's state to a file and stops QEMU; the domain becomes `saved`. Allowed in: running, paused. */
export function save(d: Domain, opts: SaveOptions = {}): Promise<SaveResult> {
  return d.vmJob('save', ['running', 'paused'], async (vm) => {
    const qmp = vm?.qmp;
    const live = d.live;
    if (vm === undefined || qmp === undefined || live === undefined) throw new VmkitError('InvalidState', `Cannot save domain '${d.name}': it is not running`);
    const root = d.hostOf.root;
    const dir = savedDir(root);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const file = join(dir, `${d.name}.save`);
    const tmp = join(dir, `.tmp-${d.name}.${randomBytes(4).toString('hex')}`);
    const socketPath = join(vm.runDir.dir, 'save.sock');
    const status = await qmp.execute<{ running: boolean }>('query-status');
    const paused = !status.running;
    const sink = await receiveToFile(socketPath, tmp, await qemuOwner(vm));
    let progress: JobProgress;
    let bytes: number;
    try {
      if (!paused) await qmp.execute('stop');
      await qmp.execute('migrate', { uri: `unix:${socketPath}` });
      progress = await watchMigration(qmp, 'save', (p) => {
        opts.onProgress?.(p);
        d.announce('progress', { progress: p });
      }, { timeoutMs: opts.timeoutMs ?? 600_000 });
      bytes = await sink.done;
      await rename(tmp, file);
      if (!d.hostOf.noSync) await syncDir(dir);
    } catch (e) {
      await qmp.execute('migrate_cancel').catch(() => undefined);
      await sink.close();
      await rm(tmp, { force: true });
      if (!paused && vm.running) await qmp.execute('cont').catch(() => undefined);
      throw e;
    } finally {
      await sink.close();
    }
    const saved: SavedState = { file, at: new Date().toISOString(), bytes, paused, hot: live.hot };
    await d.setSaved(saved);
    d.ending = { reason: 'saved', message: `The guest's state was saved to ${file} (${bytes} bytes); start restores it` };
    await qmp.execute('quit').catch(() => undefined);
    await vm.exited;
    return { file, bytes, paused, progress };
  });
}

/** Forgets a saved state (the file is removed); the domain becomes shut off. Allowed in: saved. */
export function discardSaved(d: Domain): Promise<void> {
  return d.vmJob('discard the saved state of', ['saved'], async () => {
    const file = d.saved?.file;
    if (file !== undefined) await rm(file, { force: true });
    await d.setSaved(undefined);
  });
}

/** What `start` runs for a saved domain: the file fed into a QEMU started with `-incoming defer`. */
export function restoreHook(d: Domain, saved: SavedState): IncomingRun {
  return {
    hot: saved.hot,
    reason: 'restored',
    async receive(vm, signal) {
      const qmp = vm.qmp;
      if (qmp === undefined) throw new VmkitError('Internal', 'QEMU has no QMP connection');
      await stat(saved.file).catch((e: unknown) => {
        throw new VmkitError('NotFound', `The saved state of domain '${d.name}' is gone (${saved.file}): discard it with 'vmkit save --discard ${d.name}' to boot afresh`, { cause: e, details: { file: saved.file } });
      });
      const socketPath = join(vm.runDir.qemuDir, 'in.sock');
      await qmp.execute('migrate-incoming', { uri: `unix:${socketPath}` }, { signal });
      const sent = sendFile(socketPath, saved.file, signal);
      sent.catch(() => undefined);
      await watchMigration(qmp, 'restore', (p) => d.announce('progress', { progress: p }), { signal, intervalMs: 100 });
      await sent;
      return !saved.paused;
    },
    async done() {
      await rm(saved.file, { force: true });
      await d.setSaved(undefined);
    },
  };
}
