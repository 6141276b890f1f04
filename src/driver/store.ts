/**
 * The persistent domain store of one root. The one place naming its files:
 *   <root>/domains/<name>.json   the definition: native text, resolved spec, uuid, autostart, policies
 *   <root>/status/<name>.json    how the last run ended
 * Flat directories: a define creates one file, not a directory and a file (on ext4 a new directory per
 * domain made each durable define several times dearer). Roots written by earlier versions
 * (<root>/domains/<name>/domain.json and status.json) are moved to this layout when loaded.
 * Every write is atomic (temp + fsync + rename + fsync dir; definitions go through the writer thread,
 * which commits concurrent writes as a group); writes of one domain run in order. Undefine is one unlink.
 * Names are DOMAIN_NAME_PATTERN (they never start with '.'), so they are safe as file names and never
 * collide with temporary files (.tmp-*).
 */
import { mkdir, readdir, readFile, rm, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { deepFreeze } from '../config/deep-freeze.js';
import { VmkitError } from '../errors.js';
import { DOMAIN_NAME_PATTERN, type DomainSpec } from '../model/domain.js';
import type { DefinitionFormat, StopInfo } from './api-types.js';
import { syncDir, TEMP_PREFIX, writeFileAtomic } from './atomic-file.js';
import { JobQueue } from './job-queue.js';
import { storeWriter } from './store-writer.js';
import { DEFAULT_POLICIES, resolvePolicies, type LifecyclePolicies } from './policies.js';
import { compareNames } from '../util/compare.js';

export const STORE_VERSION = 1;
/** Leftover of a remove by an earlier version (it renamed a domain's directory, then deleted it). */
const LEGACY_TRASH_PREFIX = '.trash-';
const SUFFIX = '.json';

/** domain.json */
export interface StoredDomain {
  readonly version: number;
  readonly name: string;
  readonly uuid: string;
  readonly format: DefinitionFormat;
  /** The definition as given, in its native format. */
  readonly text: string;
  readonly file?: string;
  readonly baseDir?: string;
  /** The resolved spec (with the uuid filled in); loading never re-parses. */
  readonly spec: DomainSpec;
  readonly autostart: boolean;
  readonly policies: LifecyclePolicies;
  readonly createdAt: string;
  readonly updatedAt: string;
}

/** status.json */
export interface StoredStatus {
  readonly lastStop?: StopInfo;
  /** A saved state (`vmkit save`) the next start restores (src/vmops/savestate.ts). */
  readonly saved?: import('../vmops/types.js').SavedState;
}

export interface LoadedDomain {
  readonly record: StoredDomain;
  readonly status: StoredStatus;
}

export interface StoreOptions {
  /** Skip fsyncs (throw-away roots). Default false. */
  readonly noSync?: boolean;
}

/** Throws InvalidArgument unless `name` is a valid domain name. */
export function checkDomainName(name: string): void {
  if (typeof name !== 'string' || !DOMAIN_NAME_PATTERN.test(name)) {
    throw new VmkitError('InvalidArgument', `Invalid domain name ${JSON.stringify(name)}: use 1-64 letters, digits, '_', '.', '+' or '-', starting with a letter, digit or '_'`, {
      details: { name },
    });
  }
}

export class DomainStore {
  /** Definitions. */
  readonly dir: string;
  /** Statuses. */
  readonly statusDir: string;
  private readonly noSync: boolean;
  private readonly writes = new Map<string, JobQueue>();

  constructor(readonly root: string, opts: StoreOptions = {}) {
    this.dir = join(root, 'domains');
    this.statusDir = join(root, 'status');
    this.noSync = opts.noSync === true;
  }

  /** The definition file of `name`. */
  definitionFile(name: string): string {
    checkDomainName(name);
    return join(this.dir, `${name}${SUFFIX}`);
  }

  private statusFile(name: string): string {
    checkDomainName(name);
    return join(this.statusDir, `${name}${SUFFIX}`);
  }

  /** Reads every stored domain; removes leftovers of interrupted writes and removals; moves a legacy layout. */
  async loadAll(): Promise<{ domains: LoadedDomain[]; problems: string[] }> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    await mkdir(this.statusDir, { recursive: true, mode: 0o700 });
    const problems: string[] = [];
    const domains: LoadedDomain[] = [];
    const [entries, statusEntries] = await Promise.all([readdir(this.dir, { withFileTypes: true }), readdir(this.statusDir)]);
    const defined = new Set<string>();
    // name -> its definition file, or a legacy directory; both after a migration cut short (the file is whole).
    const found = new Map<string, { file: boolean; dir: boolean }>();
    await Promise.all(
      entries.map(async (entry) => {
        const path = join(this.dir, entry.name);
        if (entry.name.startsWith(TEMP_PREFIX) || entry.name.startsWith(LEGACY_TRASH_PREFIX)) {
          await rm(path, { recursive: true, force: true });
          return;
        }
        const name = entry.isDirectory() ? entry.name : entry.name.endsWith(SUFFIX) ? entry.name.slice(0, -SUFFIX.length) : undefined;
        if (name === undefined || !DOMAIN_NAME_PATTERN.test(name)) {
          problems.push(`${path}: not a domain definition (ignored)`);
          return;
        }
        const f = found.get(name) ?? { file: false, dir: false };
        if (entry.isDirectory()) f.dir = true;
        else f.file = true;
        found.set(name, f);
      }),
    );
    await Promise.all(
      [...found].map(async ([name, f]) => {
        try {
          const loaded = f.dir ? await this.migrate(name, f.file) : await this.loadOne(name);
          if (loaded !== undefined) {
            defined.add(name);
            domains.push(loaded);
          }
        } catch (e) {
          problems.push(`${f.file ? this.definitionFile(name) : join(this.dir, name)}: ${(e as Error).message} (left in place, not loaded)`);
          defined.add(name);
        }
      }),
    );
    // Statuses of domains that are gone (a remove interrupted after the definition's unlink), and temporary files.
    await Promise.all(
      statusEntries
        .filter((e) => e.startsWith(TEMP_PREFIX) || !defined.has(e.endsWith(SUFFIX) ? e.slice(0, -SUFFIX.length) : e))
        .map((e) => rm(join(this.statusDir, e), { recursive: true, force: true })),
    );
    domains.sort((a, b) => compareNames(a.record.name, b.record.name));
    return { domains, problems };
  }

  private async loadOne(name: string): Promise<LoadedDomain> {
    const record = parseRecord(await readFile(this.definitionFile(name), 'utf8'), name);
    return { record, status: await readStatus(this.statusFile(name)) };
  }

  /**
   * A domain in the layout of earlier versions (<root>/domains/<name>/domain.json and status.json):
   * written to this layout (durably), then its directory removed. Undefined when it was never written.
   */
  private async migrate(name: string, hasFile: boolean): Promise<LoadedDomain | undefined> {
    const legacy = join(this.dir, name);
    const files = await readdir(legacy);
    if (!files.includes('domain.json')) {
      await rm(legacy, { recursive: true, force: true }); // created, never written (or already moved)
      return hasFile ? this.loadOne(name) : undefined;
    }
    const text = await readFile(join(legacy, 'domain.json'), 'utf8');
    const record = parseRecord(text, name);
    const status = files.includes('status.json') ? await readStatus(join(legacy, 'status.json')) : {};
    // The directory <name> and the file <name>.json coexist until the directory is gone; a crash in between
    // leaves both, and the next load migrates again (same content).
    await writeFileAtomic(this.definitionFile(name), text, { noSync: this.noSync });
    if (status.lastStop !== undefined) await writeFileAtomic(this.statusFile(name), `${JSON.stringify(status)}\n`, { noSync: this.noSync });
    await rm(legacy, { recursive: true, force: true });
    if (!this.noSync) await syncDir(this.dir);
    return { record, status };
  }

  /** Writes a domain's definition. */
  save(record: StoredDomain): Promise<void> {
    const file = this.definitionFile(record.name);
    return this.serial(record.name, async () => {
      const text = `${JSON.stringify(record, null, 1)}\n`;
      if (this.noSync) {
        await mkdir(this.dir, { recursive: true, mode: 0o700 });
        await writeFileAtomic(file, text, { noSync: true });
      } else {
        // Durable writes go through the process's writer thread: concurrent saves share their syncs.
        await storeWriter.write(this.dir, `${record.name}${SUFFIX}`, text, { mkdir: true });
      }
    });
  }

  /** Writes a domain's status; a domain removed meanwhile is left alone. */
  saveStatus(name: string, status: StoredStatus): Promise<void> {
    const file = this.statusFile(name);
    const definition = this.definitionFile(name);
    return this.serial(name, async () => {
      if ((await stat(definition).catch(() => undefined)) === undefined) return;
      await mkdir(this.statusDir, { recursive: true, mode: 0o700 });
      await writeFileAtomic(file, `${JSON.stringify(status)}\n`, { noSync: this.noSync });
    });
  }

  /** Removes a domain: the definition's unlink (atomic, made durable), then its status. */
  remove(name: string): Promise<void> {
    const file = this.definitionFile(name);
    const status = this.statusFile(name);
    return this.serial(name, async () => {
      try {
        await unlink(file);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
        throw new VmkitError('HostError', `Cannot remove ${file}: ${(e as Error).message}`, { cause: e });
      }
      if (!this.noSync) await syncDir(this.dir);
      await rm(status, { force: true });
    });
  }

  /** Runs the writes of one domain in order. */
  private serial(name: string, fn: () => Promise<void>): Promise<void> {
    let q = this.writes.get(name);
    if (q === undefined) {
      q = new JobQueue();
      this.writes.set(name, q);
    }
    const queue = q;
    return queue.run('write', fn).finally(() => {
      if (queue.size === 0 && this.writes.get(name) === queue) this.writes.delete(name);
    });
  }
}

async function readStatus(path: string): Promise<StoredStatus> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as StoredStatus;
  } catch {
    return {};
  }
}

function parseRecord(text: string, fileName: string): StoredDomain {
  const raw = JSON.parse(text) as Partial<StoredDomain>;
  if (raw.version !== STORE_VERSION) throw new Error(`unsupported store version ${String(raw.version)} (this vmkit reads version ${STORE_VERSION})`);
  if (raw.name !== fileName) throw new Error(`the definition names '${String(raw.name)}', not '${fileName}'`);
  if (typeof raw.uuid !== 'string' || typeof raw.spec !== 'object' || raw.spec === null || typeof raw.text !== 'string') {
    throw new Error('the definition lacks uuid, spec or text');
  }
  return deepFreeze({
    ...(raw as StoredDomain),
    autostart: raw.autostart === true,
    policies: resolvePolicies(raw.policies, DEFAULT_POLICIES),
  });
}
