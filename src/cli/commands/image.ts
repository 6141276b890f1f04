/**
 * `vmkit image list|notes|get|build|cache|index`: virt-builder's template repositories through a connection
 * (the daemon's, or `-c embed:///root`); `index` publishes a folder and runs locally.
 */
import { resolve } from 'node:path';
import { VmkitError } from '../../errors.js';
import { listJson, listLong, listShort, noteLanguages, notesText, humanSize } from '../../images/list-format.js';
import type { BuildResult, CachedImage, VmConnectionStorage } from './image-types.js';
import { parseSize } from '../../config/size.js';
import { EXIT } from '../exit-codes.js';
import { printJson, reportError } from '../output.js';
import { readCustomization, type CustomizeFlags } from './image-customize.js';
import { progressSink } from './image-progress.js';
import { emit, table, withConnection, type ConnectFlags } from './remote.js';

interface RepoFlags extends ConnectFlags {
  readonly arch?: string;
  readonly checkSignature?: boolean;
  readonly quiet?: boolean;
}

const repo = (f: RepoFlags): { noCheckSignature?: boolean } => (f.checkSignature === false ? { noCheckSignature: true } : {});

export function imageListCommand(flags: RepoFlags & { long?: boolean }): Promise<number> {
  return withConnection(flags, async (conn) => {
    const c = await (conn as VmConnectionStorage).images.list(repo(flags));
    for (const w of c.warnings) process.stderr.write(`vmkit: warning: ${w.file ?? ''}${w.line === undefined ? '' : `:${w.line}`}: ${w.message}\n`);
    const templates = flags.arch === undefined ? c.templates : c.templates.filter((t) => t.arch === flags.arch);
    if (flags.json === true) printJson(listJson(templates, c.sources));
    else process.stdout.write(flags.long === true ? listLong(templates, c.sources, noteLanguages()) : listShort(templates));
  });
}

export function imageNotesCommand(id: string, flags: RepoFlags): Promise<number> {
  return withConnection(flags, async (conn) => {
    const n = await (conn as VmConnectionStorage).images.notes(id, { ...repo(flags), ...(flags.arch === undefined ? {} : { arch: flags.arch }) });
    if (flags.json === true) printJson(n);
    else process.stdout.write(notesText({ id: n.id, arch: n.arch, notes: n.notes, file: '', revision: 1, size: 0, hidden: false }, noteLanguages()));
  });
}

export function imageGetCommand(id: string, flags: RepoFlags): Promise<number> {
  return withConnection(flags, async (conn) => {
    const sink = await progressSink(flags);
    const abort = interruptible();
    try {
      const img = await (conn as VmConnectionStorage).images.get(id, { ...repo(flags), ...(flags.arch === undefined ? {} : { arch: flags.arch }), signal: abort.signal, onProgress: (p) => sink.onProgress(p) });
      sink.done();
      emit(flags, img, `${img.id} (${img.arch}, revision ${img.revision}) is cached: ${img.path} (${img.format}, ${humanSize(img.size)})`);
    } catch (e) {
      if (abort.code() === EXIT.ok) throw e;
      reportError(e, flags);
      return abort.code();
    } finally {
      sink.done();
      abort.release();
    }
    return EXIT.ok;
  });
}

export function imageCacheCommand(flags: ConnectFlags): Promise<number> {
  return withConnection(flags, async (conn) => {
    const list = await (conn as VmConnectionStorage).images.cached();
    emit(flags, list, table(['os-version', 'Arch', 'Revision', 'Format', 'Size', 'Path'], list.map((c: CachedImage) => [c.id, c.arch, String(c.revision), c.format, humanSize(c.size), c.path])));
  });
}

export interface BuildFlags extends RepoFlags, CustomizeFlags {
  readonly output?: string;
  readonly volume?: string;
  readonly size?: string;
  readonly format?: string;
  readonly standalone?: boolean;
}

export function imageBuildCommand(id: string, flags: BuildFlags): Promise<number> {
  return withConnection(flags, async (conn) => {
    if ((flags.output === undefined) === (flags.volume === undefined)) throw new VmkitError('InvalidArgument', 'Give the output: -o FILE, or --volume NAME (a volume of the root)');
    if (flags.format !== undefined && flags.format !== 'raw' && flags.format !== 'qcow2') throw new VmkitError('InvalidArgument', `--format must be raw or qcow2, got ${JSON.stringify(flags.format)}`);
    const customize = await readCustomization(flags);
    const sink = await progressSink(flags);
    const abort = interruptible();
    let r: BuildResult;
    try {
      r = await (conn as VmConnectionStorage).images.build(id, {
        ...repo(flags),
        ...(flags.arch === undefined ? {} : { arch: flags.arch }),
        output: flags.volume !== undefined ? { volume: flags.volume } : { path: resolve(flags.output as string) },
        ...(flags.format === undefined ? {} : { format: flags.format as 'raw' | 'qcow2' }),
        ...(flags.standalone === true ? { standalone: true } : {}),
        ...(flags.size === undefined ? {} : { size: parseSize(flags.size) }),
        ...(customize === undefined ? {} : { customize }),
        signal: abort.signal,
        onProgress: (p) => sink.onProgress(p),
      });
    } catch (e) {
      if (abort.code() === EXIT.ok) throw e;
      reportError(e, flags);
      return abort.code();
    } finally {
      sink.done();
      abort.release();
    }
    const lines = [
      `Output: ${r.output} (${r.format}${r.format === 'qcow2' && flags.standalone !== true ? `, an overlay on ${r.image.path}` : ''}, ${humanSize(r.size)})`,
      ...(r.seed === undefined ? [] : [`Seed: ${r.seed} (cloud-init NoCloud, label cidata: attach it as a raw disk; the guest needs cloud-init)`]),
      ...(r.rootPassword === undefined ? [] : [`Root password: ${r.rootPassword}`]),
    ];
    emit(flags, r, lines.join('\n'));
    return EXIT.ok;
  });
}

export async function imageIndexCommand(dir: string, flags: { sign?: string; arch?: string; json?: boolean }): Promise<number> {
  try {
    const { publishIndex } = await import('../../images/publish.js');
    const r = await publishIndex(resolve(dir), {
      ...(flags.sign === undefined ? {} : { signKey: resolve(flags.sign) }),
      ...(process.env.VMKIT_SIGN_PASSPHRASE === undefined ? {} : { passphrase: process.env.VMKIT_SIGN_PASSPHRASE }),
      ...(flags.arch === undefined ? {} : { arch: flags.arch }),
    });
    emit(flags, r, [`Wrote ${r.index}${r.signed === undefined ? '' : ` and ${r.signed}`}: ${r.entries.length} template${r.entries.length === 1 ? '' : 's'}${r.removedStale === undefined ? '' : ` (removed ${r.removedStale}: it no longer matched; sign with --sign KEYFILE)`}`, ...r.entries.map((e) => `  ${e.id} (${e.arch}, revision ${e.revision}): ${e.file}, ${humanSize(e.compressedSize ?? 0)} -> ${humanSize(e.size)}`)].join('\n'));
    return EXIT.ok;
  } catch (e) {
    return reportError(e, flags);
  }
}

/** Ctrl-C / SIGTERM abort the operation (which then removes what it had begun) instead of killing vmkit. */
function interruptible(): { signal: AbortSignal; release(): void; code(): number } {
  const abort = new AbortController();
  let got: NodeJS.Signals | undefined;
  const on = (sig: NodeJS.Signals): void => {
    got ??= sig;
    abort.abort(new VmkitError('Aborted', `Interrupted by ${sig}`));
  };
  process.on('SIGINT', on);
  process.on('SIGTERM', on);
  return {
    signal: abort.signal,
    release() {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
    },
    code: () => (got === 'SIGINT' ? EXIT.sigint : got === 'SIGTERM' ? EXIT.sigterm : EXIT.ok),
  };
}
