/**
 * The persistent domain store of one root. The one place naming its files:
 *   <root>/domains/<name>/domain.json   the definition: native text, resolved spec, uuid, autostart, policies
 *   <root>/domains/<name>/status.json   how the last run ended
 *   <root>/domains/.trash-*             a domain being removed (undefine renames, then deletes)
 * Every write is atomic (temp + fsync + rename + fsync dir; definitions go through the writer thread,
 * which commits concurrent writes as a group); writes of one domain run in order.
 * Names are DOMAIN_NAME_PATTERN (they never start with '.'), so they are safe as file names.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { deepFreeze } from '../config/deep-freeze.js';
import { VmkitError } from '../errors.js';
import { DOMAIN_NAME_PATTERN, type DomainSpec } from '../model/domain.js';
import type { DefinitionFormat, StopInfo } from './api-types.js';
import { mkdirDurable, syncDir, TEMP_PREFIX, writeFileAtomic } from './atomic-file.js';
import { JobQueue } from './job-queue.js';
import { storeWriter } from './store-writer.js';
import { DEFAULT_POLICIES, resolvePolicies, type LifecyclePolicies } from './policies.js';

export const STORE_VERSION = 1;
const TRASH_PREFIX = '.trash-';

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
  readonly dir: string;
  private readonly noSync: boolean;
  private readonly writes = new Map<string, JobQueue>();

  constructor(readonly root: string, opts: StoreOptions = {}) {
    this.dir = join(root, 'domains');
    this.noSync = opts.noSync === true;
  }

  domainDir(name: string): string {
    checkDomainName(name);
    return join(this.dir, name);
  }

  /** Reads every stored domain; removes leftovers of interrupted writes and removals. */
  async loadAll(): Promise<{ domains: LoadedDomain[]; problems: string[] }> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const entries = await readdir(this.dir);
    const problems: string[] = [];
    const domains: LoadedDomain[] = [];
    await Promise.all(
      entries.map(async (entry) => {
        const path = join(this.dir, entry);
        if (entry.startsWith(TRASH_PREFIX)) {
          await rm(path, { recursive: true, force: true });
          return;
        }
        if (!DOMAIN_NAME_PATTERN.test(entry)) {
          problems.push(`${path}: not a domain directory (ignored)`);
          return;
        }
        try {
          const loaded = await this.loadOne(entry);
          if (loaded === undefined) await rm(path, { recursive: true, force: true }); // created, never written
          else domains.push(loaded);
        } catch (e) {
          problems.push(`${path}: ${(e as Error).message} (left in place, not loaded)`);
        }
      }),
    );
    domains.sort((a, b) => a.record.name.localeCompare(b.record.name));
    return { domains, problems };
  }

  private async loadOne(name: string): Promise<LoadedDomain | undefined> {
    const dir = join(this.dir, name);
    const files = await readdir(dir);
    await Promise.all(files.filter((f) => f.startsWith(TEMP_PREFIX)).map((f) => rm(join(dir, f), { force: true })));
    if (!files.includes('domain.json')) return undefined;
    const record = parseRecord(await readFile(join(dir, 'domain.json'), 'utf8'), name);
    let status: StoredStatus = {};
    if (files.includes('status.json')) {
      try {
        status = JSON.parse(await readFile(join(dir, 'status.json'), 'utf8')) as StoredStatus;
      } catch {
        status = {};
      }
    }
    return { record, status };
  }

  /** Writes a domain's definition (creating its directory). */
  save(record: StoredDomain): Promise<void> {
    const dir = this.domainDir(record.name);
    return this.serial(record.name, async () => {
      const text = `${JSON.stringify(record, null, 1)}\n`;
      if (this.noSync) {
        await mkdirDurable(dir, 0o700, true);
        await writeFileAtomic(join(dir, 'domain.json'), text, { noSync: true });
      } else {
        // Durable writes go through the process's writer thread: concurrent saves share their syncs.
        await storeWriter.write(dir, 'domain.json', text, { mkdir: true });
      }
    });
  }

  /** Writes a domain's status; a domain removed meanwhile is left alone. */
  saveStatus(name: string, status: StoredStatus): Promise<void> {
    const dir = this.domainDir(name);
    return this.serial(name, async () => {
      try {
        await writeFileAtomic(join(dir, 'status.json'), `${JSON.stringify(status)}\n`, { noSync: this.noSync });
      } catch (e) {
        if (isMissing(e)) return;
        throw e;
      }
    });
  }

  /** Removes a domain: one rename (atomic), then the files. */
  remove(name: string): Promise<void> {
    const dir = this.domainDir(name);
    return this.serial(name, async () => {
      const trash = join(this.dir, `${TRASH_PREFIX}${name}.${randomBytes(4).toString('hex')}`);
      try {
        await rename(dir, trash);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
        throw new VmkitError('HostError', `Cannot remove ${dir}: ${(e as Error).message}`, { cause: e });
      }
      if (!this.noSync) await syncDir(this.dir);
      await rm(trash, { recursive: true, force: true });
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

function isMissing(e: unknown): boolean {
  const cause = (e as { cause?: NodeJS.ErrnoException }).cause;
  return cause?.code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOENT';
}

function parseRecord(text: string, dirName: string): StoredDomain {
  const raw = JSON.parse(text) as Partial<StoredDomain>;
  if (raw.version !== STORE_VERSION) throw new Error(`unsupported store version ${String(raw.version)} (this vmkit reads version ${STORE_VERSION})`);
  if (raw.name !== dirName) throw new Error(`domain.json names '${String(raw.name)}', not '${dirName}'`);
  if (typeof raw.uuid !== 'string' || typeof raw.spec !== 'object' || raw.spec === null || typeof raw.text !== 'string') {
    throw new Error('domain.json lacks uuid, spec or text');
  }
  return deepFreeze({
    ...(raw as StoredDomain),
    autostart: raw.autostart === true,
    policies: resolvePolicies(raw.policies, DEFAULT_POLICIES),
  });
}
