/**
 * A simulated cgroup v2 hierarchy (CgroupFs) for the v2 isolation path, which cannot run for real on this
 * machine: its cpuset controller is bound to the cgroup v1 hierarchy. It models the rules vmkit relies
 * on (cgroup-v2.rst): controllers come from the parent's subtree_control; the no-internal-process rule;
 * threaded subtrees (cgroup.type, cgroup.threads only within one threaded domain, cgroup.procs refused on
 * threaded cgroups); cpuset partitions valid only under a partition root, with CPUs exclusive among
 * sibling partitions and at least one CPU left to a parent with tasks; rmdir refused while populated or
 * with children. It is a model, not the kernel: the real v2 path is still to be proven on a v2 host.
 */
import { formatCpuSet, parseCpuSet } from '../../src/util/cpu-set.js';
import type { CgroupFs } from '../../src/tuning/cgroup-fs.js';

function err(code: string, path: string): Error {
  return Object.assign(new Error(`${code}: ${path}`), { code });
}

interface Node {
  readonly name: string;
  readonly parent: Node | undefined;
  readonly children: Map<string, Node>;
  type: 'domain' | 'threaded' | 'domain threaded';
  subtree: Set<string>;
  cpus: number[];
  partition: string;
}

export class FakeCgroup2 implements CgroupFs {
  readonly root: Node;
  /** tid -> cgroup; pid -> its tids */
  readonly where = new Map<number, Node>();
  readonly procs = new Map<number, number[]>();
  readonly writes: string[] = [];

  constructor(
    readonly mount: string,
    readonly hostCpus: number[],
    readonly controllers = ['cpuset', 'cpu', 'memory'],
  ) {
    this.root = { name: '', parent: undefined, children: new Map(), type: 'domain', subtree: new Set(), cpus: hostCpus, partition: 'root' };
  }

  /** Adds a process (its first tid is the pid) to cgroup `at` (default the root). */
  addProcess(tids: number[], at = this.root): void {
    this.procs.set(tids[0]!, tids);
    for (const t of tids) this.where.set(t, at);
  }

  node(path: string): Node | undefined {
    if (!path.startsWith(this.mount)) return undefined;
    let n: Node | undefined = this.root;
    for (const part of path.slice(this.mount.length).split('/').filter(Boolean)) n = n?.children.get(part);
    return n;
  }

  pathOf(n: Node): string {
    const parts: string[] = [];
    for (let x: Node | undefined = n; x?.parent !== undefined; x = x.parent) parts.unshift(x.name);
    return [this.mount, ...parts].join('/');
  }

  private split(path: string): [Node, string] {
    const i = path.lastIndexOf('/');
    const n = this.node(path.slice(0, i));
    if (n === undefined) throw err('ENOENT', path);
    return [n, path.slice(i + 1)];
  }

  private controllersOf(n: Node): string[] {
    return n.parent === undefined ? this.controllers : [...n.parent.subtree];
  }

  private hasCpuset(n: Node): boolean {
    return n.parent === undefined || n.parent.subtree.has('cpuset');
  }

  private domainOf(n: Node): Node {
    let x = n;
    while (x.type === 'threaded' && x.parent !== undefined) x = x.parent;
    return x;
  }

  private tasks(n: Node): number[] {
    return [...this.where].filter(([, g]) => g === n).map(([t]) => t);
  }

  private isPartition(n: Node): boolean {
    return n.parent === undefined || n.partition === 'root' || n.partition === 'isolated';
  }

  effective(n: Node): number[] {
    if (n.parent === undefined) {
      const taken = new Set([...n.children.values()].filter((c) => this.isPartition(c)).flatMap((c) => c.cpus));
      return this.hostCpus.filter((c) => !taken.has(c));
    }
    const parent = this.isPartition(n.parent) && n.parent.parent !== undefined ? n.parent.cpus : this.effective(n.parent);
    const own = n.cpus.length > 0 ? n.cpus.filter((c) => parent.includes(c)) : parent;
    return own;
  }

  async exists(path: string): Promise<boolean> {
    if (this.node(path) !== undefined) return true;
    try {
      await this.read(path);
      return true;
    } catch {
      return false;
    }
  }

  async subdirs(path: string): Promise<string[]> {
    const n = this.node(path);
    if (n === undefined) throw err('ENOENT', path);
    return [...n.children.keys()];
  }

  async mkdir(path: string): Promise<void> {
    const [parent, name] = this.split(path);
    if (parent.children.has(name)) throw err('EEXIST', path);
    const type = parent.type === 'domain threaded' || parent.type === 'threaded' ? 'threaded' : 'domain';
    parent.children.set(name, { name, parent, children: new Map(), type, subtree: new Set(), cpus: [], partition: 'member' });
  }

  async rmdir(path: string): Promise<void> {
    const n = this.node(path);
    if (n === undefined || n.parent === undefined) throw err('ENOENT', path);
    if (n.children.size > 0 || this.tasks(n).length > 0) throw err('EBUSY', path);
    n.parent.children.delete(n.name);
  }

  async read(path: string): Promise<string> {
    const [n, file] = this.split(path);
    switch (file) {
      case 'cgroup.controllers':
        return this.controllersOf(n).join(' ') + '\n';
      case 'cgroup.subtree_control':
        return [...n.subtree].join(' ') + '\n';
      case 'cgroup.type':
        return n.type + '\n';
      case 'cgroup.threads':
        return this.tasks(n).map((t) => `${t}\n`).join('');
      case 'cgroup.procs':
        if (n.type === 'threaded') throw err('EOPNOTSUPP', path);
        return [...this.procs.keys()].filter((p) => this.domainOf(this.where.get(p)!) === n).map((p) => `${p}\n`).join('');
    }
    if (!this.hasCpuset(n)) throw err('ENOENT', path);
    switch (file) {
      case 'cpuset.cpus':
        return formatCpuSet(n.cpus) + '\n';
      case 'cpuset.cpus.effective':
        return formatCpuSet(this.effective(n)) + '\n';
      case 'cpuset.cpus.partition':
        if (n.parent === undefined) throw err('ENOENT', path);
        return n.partition + '\n';
    }
    throw err('ENOENT', path);
  }

  async write(path: string, data: string): Promise<void> {
    this.writes.push(`${path} ${data}`);
    const [n, file] = this.split(path);
    switch (file) {
      case 'cgroup.subtree_control': {
        const m = /^([+-])(\w+)$/.exec(data);
        if (m === null || !this.controllersOf(n).includes(m[2]!)) throw err('ENOENT', path);
        if (m[1] === '-') {
          if ([...n.children.values()].length > 0) throw err('EBUSY', path);
          n.subtree.delete(m[2]!);
          return;
        }
        // No internal processes: a non-root domain with tasks cannot enable controllers (threaded ones are exempt in a threaded domain).
        if (n.parent !== undefined && n.type === 'domain' && this.tasks(n).length > 0) throw err('EBUSY', path);
        n.subtree.add(m[2]!);
        return;
      }
      case 'cgroup.type':
        if (data !== 'threaded' || n.parent === undefined) throw err('EINVAL', path);
        if (n.parent.parent !== undefined && n.parent.type === 'domain') n.parent.type = 'domain threaded';
        n.type = 'threaded';
        return;
      case 'cgroup.procs': {
        const pid = Number(data);
        const tids = this.procs.get(pid);
        if (tids === undefined) throw err('ESRCH', path);
        if (n.type === 'threaded') throw err('EOPNOTSUPP', path);
        if (n.parent !== undefined && n.type === 'domain' && n.subtree.size > 0 && n.children.size > 0) throw err('EBUSY', path);
        for (const t of tids) this.where.set(t, n);
        return;
      }
      case 'cgroup.threads': {
        const tid = Number(data);
        const from = this.where.get(tid);
        if (from === undefined) throw err('ESRCH', path);
        if (this.domainOf(from) !== this.domainOf(n)) throw err('EOPNOTSUPP', path);
        this.where.set(tid, n);
        return;
      }
    }
    if (!this.hasCpuset(n)) throw err('ENOENT', path);
    switch (file) {
      case 'cpuset.cpus':
        n.cpus = parseCpuSet(data, { allowEmpty: true });
        if (this.isPartition(n) && n.parent !== undefined) n.partition = this.partitionState(n, n.partition.split(' ')[0]!);
        return;
      case 'cpuset.cpus.partition':
        if (!['member', 'root', 'isolated'].includes(data)) throw err('EINVAL', path);
        n.partition = data === 'member' ? 'member' : this.partitionState(n, data);
        return;
    }
    throw err('ENOENT', path);
  }

  /** `root`/`isolated`, or `<kind> invalid (reason)` as the kernel reports it. */
  private partitionState(n: Node, kind: string): string {
    const p = n.parent!;
    if (!this.isPartition(p)) return `${kind} invalid (Parent is not a partition root)`;
    if (n.cpus.length === 0) return `${kind} invalid (cpuset.cpus and cpuset.cpus.exclusive are empty)`;
    for (const s of p.children.values()) {
      if (s !== n && this.isPartition(s) && s.cpus.some((c) => n.cpus.includes(c))) return `${kind} invalid (Cpu list in cpuset.cpus not exclusive)`;
    }
    const parentCpus = p.parent === undefined ? this.hostCpus : p.cpus;
    if (n.cpus.some((c) => !parentCpus.includes(c))) return `${kind} invalid (Invalid cpu list in cpuset.cpus.exclusive)`;
    const siblingsTaken = [...p.children.values()].filter((s) => s !== n && this.isPartition(s)).flatMap((s) => s.cpus);
    const left = parentCpus.filter((c) => !siblingsTaken.includes(c) && !n.cpus.includes(c));
    if (this.tasks(p).length > 0 && left.length === 0) {
      return `${kind} invalid (Parent unable to distribute cpu downstream)`;
    }
    return kind;
  }
}
