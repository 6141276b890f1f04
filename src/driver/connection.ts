import { rmSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import { loadDefinitionFile, parseDefinition } from '../config/index.js';
import { VmkitError } from '../errors.js';
import type { DomainSpec } from '../model/domain.js';
import type { BeforeCont, QemuProcess } from '../process/qemu-process.js';
import { sweepStaleRunDirs } from '../process/state-dir.js';
import { Domain, type DomainHost } from './domain.js';

/** What `define` accepts: a spec, a definition file, or a definition's text. */
export type DefinitionInput =
  | { readonly spec: DomainSpec }
  | { readonly path: string }
  | { readonly text: string; readonly file?: string; readonly baseDir?: string };

export interface EmbeddedOptions {
  /** Absolute directory holding this connection's private state. Created if missing. */
  readonly root: string;
  /** Runs between QEMU's paused start and `cont` (tuning). */
  readonly beforeCont?: BeforeCont;
}

/**
 * The whole vmkit API for one root. In embedded mode the driver runs in this process: QEMU is a child of
 * this process and dies with it. Several connections with different roots may live in one process.
 */
export class Connection implements DomainHost {
  readonly uri: string;
  readonly root: string;
  readonly beforeCont?: BeforeCont;
  private readonly domains = new Map<string, Domain>();
  private readonly live = new Set<QemuProcess>();
  private readonly onExit = (): void => {
    // Synchronous last resort on process exit: QEMU dies through PDEATHSIG; remove its run directories.
    for (const vm of this.live) rmSync(vm.runDir.dir, { recursive: true, force: true });
  };
  private closed = false;

  private constructor(opts: EmbeddedOptions) {
    this.root = opts.root;
    this.uri = `embed://${opts.root}`;
    if (opts.beforeCont !== undefined) this.beforeCont = opts.beforeCont;
    process.on('exit', this.onExit);
  }

  /** Opens (creating if needed) an embedded connection rooted at `root`, sweeping stale run directories. */
  static async open(opts: EmbeddedOptions): Promise<Connection> {
    if (!isAbsolute(opts.root)) {
      throw new VmkitError('InvalidArgument', `Embedded root must be an absolute path, got '${opts.root}'`, { details: { root: opts.root } });
    }
    await mkdir(opts.root, { recursive: true, mode: 0o700 });
    await sweepStaleRunDirs(opts.root);
    return new Connection(opts);
  }

  /** Defines (or, when shut off, redefines) a domain. */
  async define(input: DefinitionInput | DomainSpec): Promise<Domain> {
    this.requireOpen();
    const spec = await toSpec(input);
    const existing = this.domains.get(spec.name);
    if (existing !== undefined) {
      if (existing.state() !== 'shutoff') {
        throw new VmkitError('InvalidState', `Cannot redefine domain '${spec.name}': it is ${existing.state()}, and redefine needs shutoff`, {
          details: { domain: spec.name, state: existing.state() },
        });
      }
      existing.spec = spec;
      return existing;
    }
    const domain = new Domain(spec, this);
    this.domains.set(spec.name, domain);
    return domain;
  }

  /** Removes a shut-off domain's definition. */
  undefine(name: string): void {
    const d = this.lookup(name);
    if (d.state() !== 'shutoff') {
      throw new VmkitError('InvalidState', `Cannot undefine domain '${name}': it is ${d.state()}, and undefine needs shutoff`);
    }
    this.domains.delete(name);
  }

  lookup(name: string): Domain {
    const d = this.domains.get(name);
    if (d === undefined) throw new VmkitError('NotFound', `No domain named '${name}' in ${this.uri}`, { details: { name } });
    return d;
  }

  list(): Domain[] {
    return [...this.domains.values()];
  }

  /** Destroys every running domain of this connection and releases it. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.live].map((vm) => vm.kill()));
    process.off('exit', this.onExit);
  }

  pinnedCpus(except: string): number[] {
    return this.list().flatMap((d) => (d.name === except ? [] : d.pins));
  }

  track(vm: QemuProcess): void {
    this.live.add(vm);
  }

  untrack(vm: QemuProcess): void {
    this.live.delete(vm);
  }

  private requireOpen(): void {
    if (this.closed) throw new VmkitError('InvalidState', `Connection ${this.uri} is closed`);
  }
}

async function toSpec(input: DefinitionInput | DomainSpec): Promise<DomainSpec> {
  if ('spec' in input) return input.spec;
  if ('path' in input) return loadDefinitionFile(input.path);
  if ('text' in input) {
    return parseDefinition(input.text, {
      ...(input.file === undefined ? {} : { file: input.file }),
      baseDir: input.baseDir ?? (input.file === undefined ? process.cwd() : resolve(input.file, '..')),
    });
  }
  return input;
}

/** Opens an embedded connection: `openEmbedded({ root: '/abs/dir' })`. */
export function openEmbedded(opts: EmbeddedOptions): Promise<Connection> {
  return Connection.open(opts);
}
