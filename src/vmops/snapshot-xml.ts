/**
 * libvirt's `<domainsnapshot>` XML (formatsnapshot): a snapshot record written as libvirt writes it
 * (`vmkit snapshot dumpxml`), and a create request read from it (`vmkit snapshot create --xmlfile`).
 *
 * Read: `<name>`, `<description>`, `<memory snapshot='internal|no'>` and `<disks>` with
 * `<disk name snapshot='internal|external|no'>`, an external disk's `<source file>` (the new overlay) and
 * `<driver type='qcow2'>`. A disk is named by its target (`vda`, as dumpxml writes it), its vmkit id or its
 * image path, like libvirt. What libvirt itself fills in at creation (`<state>`, `<creationTime>`,
 * `<parent>`, `<domain>`, `<active>`, `<cookie>`, `<inactiveDomain>`) is read-only there and skipped here
 * too (so dumpxml output can be fed back); anything else is refused at file:line:col. Pure.
 */
import { ConfigError, type Problem } from '../errors.js';
import type { DiskSpec, DomainSpec } from '../model/domain.js';
import { diskName } from '../config/libvirt/read-disks.js';
import { el, serialize, type XmlNode } from '../config/libvirt/xml-writer.js';
import { LineIndex, parseXml, type XmlElement } from '../config/libvirt/xml-tree.js';
import type { SnapshotRecord } from './snapshot-store.js';

/** libvirt's target prefixes by bus, as the domain exporter writes them. */
const TARGET_PREFIX = { virtio: 'vd', scsi: 'sd', sata: 'sd', ide: 'hd' } as const;

/** Disk id -> libvirt target name (`vda`), in the definition's order, as `vmkit dumpxml` names them. */
export function diskTargets(disks: readonly DiskSpec[]): Map<string, string> {
  const next: Record<string, number> = {};
  const out = new Map<string, string>();
  for (const d of disks) {
    const prefix = TARGET_PREFIX[d.bus];
    const i = next[prefix] ?? 0;
    next[prefix] = i + 1;
    out.set(d.id, diskName(prefix, i));
  }
  return out;
}

/** A snapshot as libvirt's `<domainsnapshot>` XML. `disks` is the domain's (for target names and the disks left out). */
export function snapshotToXml(rec: SnapshotRecord, domain: Pick<DomainSpec, 'name' | 'uuid' | 'disks'>): string {
  const targets = diskTargets(domain.disks);
  const taken = new Set(rec.disks.map((x) => x.id));
  const diskEls: XmlNode[] = rec.disks.map((x) => {
    const name = targets.get(x.id) ?? x.id;
    if (rec.kind === 'internal') return el('disk', [['name', name], ['snapshot', 'internal']]);
    return el('disk', [['name', name], ['snapshot', 'external'], ['type', 'file']], [el('driver', [['type', 'qcow2']]), el('source', [['file', x.overlay]])]);
  });
  // Disks of the domain the snapshot left out (read-only, CD-ROMs, or named snapshot='no').
  for (const d of domain.disks) if (!taken.has(d.id)) diskEls.push(el('disk', [['name', targets.get(d.id) ?? d.id], ['snapshot', 'no']]));
  const root = el('domainsnapshot', [], [
    el('name', [], rec.name),
    rec.description !== undefined && el('description', [], rec.description),
    el('state', [], rec.state),
    el('creationTime', [], String(Math.floor(Date.parse(rec.createdAt) / 1000))),
    rec.parent !== undefined && el('parent', [], [el('name', [], rec.parent)]),
    el('memory', [['snapshot', rec.memory ? 'internal' : 'no']]),
    el('disks', [], diskEls),
    el('domain', [], [el('name', [], domain.name), domain.uuid !== undefined && el('uuid', [], domain.uuid)]),
  ]);
  return serialize(root);
}

/** One disk of a create request read from XML. */
export interface SnapshotDiskRequest {
  /** vmkit disk id. */
  readonly id: string;
  readonly snapshot: 'internal' | 'external' | 'no';
  /** external: the overlay to create (absent: vmkit's own place for it). */
  readonly file?: string;
}

/** What a `<domainsnapshot>` asks for, in vmkit's terms (createSnapshot's options). */
export interface SnapshotXmlRequest {
  readonly name?: string;
  readonly description?: string;
  readonly kind: 'internal' | 'external';
  readonly memory: boolean;
  readonly disks: readonly SnapshotDiskRequest[];
}

const SKIPPED = new Set(['state', 'creationTime', 'parent', 'domain', 'active', 'cookie', 'inactiveDomain']);
const ALLOWED = new Set(['name', 'description', 'memory', 'disks', ...SKIPPED]);

/**
 * Reads a create request from `<domainsnapshot>` XML, against the domain's disks. Throws a ConfigError
 * listing every problem (file:line:col, XML path, what to write instead).
 */
export function parseSnapshotXml(text: string, disks: readonly DiskSpec[], file?: string): SnapshotXmlRequest {
  const lines = new LineIndex(text);
  const problems: Problem[] = [];
  const at = (offset: number, path: string, message: string, extra: { expected?: string; found?: string } = {}): void => {
    const { line, col } = lines.pos(offset);
    problems.push({ ...(file === undefined ? {} : { file }), line, col, path, message, ...extra });
  };
  const attrAt = (e: XmlElement, name: string): number => e.attrs.find((a) => a.name === name)?.offset ?? e.offset;
  const attr = (e: XmlElement, name: string): string | undefined => e.attrs.find((a) => a.name === name)?.value;
  const fail = (): never => {
    throw new ConfigError(problems);
  };

  const parsed = parseXml(text);
  if (!parsed.ok) {
    at(parsed.offset, '', `Not well-formed XML: ${parsed.message}`);
    return fail();
  }
  const root = parsed.root;
  if (root.name !== 'domainsnapshot') {
    at(root.offset, root.path, 'A snapshot is described by a <domainsnapshot> element', { expected: '<domainsnapshot>', found: `<${root.name}>` });
    return fail();
  }
  for (const c of root.children) if (!ALLOWED.has(c.name)) at(c.offset, c.path, `<${c.name}> is not part of a snapshot vmkit can create; remove it`, { expected: 'name, description, memory or disks' });
  const one = (name: string): XmlElement | undefined => {
    const all = root.children.filter((c) => c.name === name);
    for (const extra of all.slice(1)) at(extra.offset, extra.path, `<${name}> may appear once`);
    return all[0];
  };
  const nameEl = one('name');
  const name = nameEl?.text.trim();
  if (nameEl !== undefined && (name === undefined || !/^[A-Za-z0-9_][A-Za-z0-9_.+-]{0,63}$/.test(name))) {
    at(nameEl.textOffset ?? nameEl.offset, nameEl.path, 'Invalid snapshot name: use 1-64 letters, digits, \'_\', \'.\', \'+\' or \'-\', starting with a letter, digit or \'_\'', { found: JSON.stringify(name) });
  }
  const descEl = one('description');
  const description = descEl?.text;

  // Memory: internal (in the qcow2 images, with the disks) or no (disk-only); external memory files are not supported.
  const memEl = one('memory');
  const memMode = memEl === undefined ? undefined : attr(memEl, 'snapshot');
  if (memEl !== undefined) {
    if (memMode === undefined) at(memEl.offset, `${memEl.path}/@snapshot`, "<memory> needs snapshot='internal' or snapshot='no'");
    else if (memMode === 'external') at(attrAt(memEl, 'snapshot'), `${memEl.path}/@snapshot`, "External memory state files are not supported; use snapshot='internal' (in the qcow2 images) or 'no' (disk-only)", { found: 'external' });
    else if (memMode !== 'internal' && memMode !== 'no') at(attrAt(memEl, 'snapshot'), `${memEl.path}/@snapshot`, 'Unknown memory snapshot mode', { expected: 'internal or no', found: memMode });
    for (const a of memEl.attrs) if (a.name !== 'snapshot') at(a.offset, `${memEl.path}/@${a.name}`, `Attribute ${a.name} is not supported on <memory>; remove it`);
  }

  // Disks, by target name, id or path.
  const targets = diskTargets(disks);
  const byName = (n: string): DiskSpec | undefined => disks.find((d) => d.id === n || targets.get(d.id) === n || d.path === n);
  const req: SnapshotDiskRequest[] = [];
  const disksEl = one('disks');
  for (const c of disksEl?.children ?? []) {
    if (c.name !== 'disk') {
      at(c.offset, c.path, `<${c.name}> is not allowed in <disks>`, { expected: '<disk>' });
      continue;
    }
    const n = attr(c, 'name');
    const disk = n === undefined ? undefined : byName(n);
    if (n === undefined) {
      at(c.offset, `${c.path}/@name`, "<disk> needs name='vda' (its target, vmkit id or image path)");
      continue;
    }
    if (disk === undefined) {
      at(attrAt(c, 'name'), `${c.path}/@name`, 'The domain has no such disk', { expected: [...targets.entries()].map(([id, t]) => `${t} (${id})`).join(', ') || 'none', found: n });
      continue;
    }
    if (req.some((r) => r.id === disk.id)) at(c.offset, c.path, `Disk ${n} is named twice`);
    const mode = attr(c, 'snapshot') ?? (c.children.some((x) => x.name === 'source') ? 'external' : undefined);
    if (mode !== 'internal' && mode !== 'external' && mode !== 'no') {
      at(attrAt(c, 'snapshot'), `${c.path}/@snapshot`, mode === undefined ? "Say how to snapshot the disk: snapshot='internal', 'external' or 'no'" : 'Unknown disk snapshot mode', { expected: 'internal, external or no', ...(mode === undefined ? {} : { found: mode }) });
      continue;
    }
    let fileOut: string | undefined;
    for (const a of c.attrs) {
      if (a.name === 'type' && a.value !== 'file') at(a.offset, `${c.path}/@type`, 'External overlays are files', { expected: 'file', found: a.value });
      else if (!['name', 'snapshot', 'type'].includes(a.name)) at(a.offset, `${c.path}/@${a.name}`, `Attribute ${a.name} is not supported on a snapshot <disk>; remove it`);
    }
    for (const x of c.children) {
      if (mode !== 'external') {
        at(x.offset, x.path, `<${x.name}> applies to external disk snapshots only`);
        continue;
      }
      if (x.name === 'source') {
        const f = attr(x, 'file');
        if (f === undefined || !f.startsWith('/')) at(f === undefined ? x.offset : attrAt(x, 'file'), `${x.path}/@file`, 'The overlay needs an absolute path: <source file=\'/path/new.qcow2\'/>', f === undefined ? {} : { found: JSON.stringify(f) });
        else if (f.includes('\0') || f.split('/').includes('..')) at(attrAt(x, 'file'), `${x.path}/@file`, "The overlay path may not contain '..' or NUL", { found: JSON.stringify(f) });
        else fileOut = f;
      } else if (x.name === 'driver') {
        const t = attr(x, 'type');
        if (t !== 'qcow2') at(t === undefined ? x.offset : attrAt(x, 'type'), `${x.path}/@type`, 'Overlays are qcow2 images', { expected: 'qcow2', ...(t === undefined ? {} : { found: t }) });
      } else at(x.offset, x.path, `<${x.name}> is not supported in a snapshot <disk>`, { expected: '<source> or <driver>' });
    }
    req.push({ id: disk.id, snapshot: mode, ...(fileOut === undefined ? {} : { file: fileOut }) });
  }

  // vmkit takes one kind per snapshot: internal (every writable qcow2 disk, with memory) or external (disk-only).
  const modes = new Set(req.filter((r) => r.snapshot !== 'no').map((r) => r.snapshot));
  let kind: 'internal' | 'external' = modes.has('external') ? 'external' : 'internal';
  if (modes.size === 0 && memMode === 'no') kind = 'external';
  if (modes.size > 1 && disksEl !== undefined) at(disksEl.offset, disksEl.path, 'A snapshot mixes internal and external disks; vmkit takes one kind per snapshot: make them all internal or all external');
  const writable = (id: string): boolean => disks.some((x) => x.id === id && !x.readonly && x.media === 'disk');
  if (kind === 'internal' && req.some((r) => r.snapshot === 'no' && writable(r.id)) && disksEl !== undefined) {
    at(disksEl.offset, disksEl.path, "An internal snapshot holds every writable disk; snapshot='no' is for external (disk-only) snapshots");
  }
  if (kind === 'internal' && memMode === 'no' && memEl !== undefined) {
    at(attrAt(memEl, 'snapshot'), `${memEl.path}/@snapshot`, "An internal snapshot of a running domain holds its memory; use snapshot='internal', or make the disks external for a disk-only snapshot", { found: 'no' });
  }
  if (kind === 'external' && memMode === 'internal' && memEl !== undefined) {
    at(attrAt(memEl, 'snapshot'), `${memEl.path}/@snapshot`, "External snapshots are disk-only here; use <memory snapshot='no'/>", { found: 'internal' });
  }
  if (problems.length > 0) return fail();
  return {
    ...(name === undefined ? {} : { name }),
    ...(description === undefined ? {} : { description }),
    kind,
    memory: kind === 'internal',
    disks: req,
  };
}
