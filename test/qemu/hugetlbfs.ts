/**
 * A private hugetlbfs for tests of hugepage-backed guests: mounted in a temporary directory, with the huge
 * pages the test needs reserved on top of whatever the host already has, and both undone afterwards. Needs
 * root (npm test runs as root); a host where that cannot be done fails the test saying why, it never skips.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

function poolFile(sizeKiB: number, name: string): string {
  return `/sys/kernel/mm/hugepages/hugepages-${sizeKiB}kB/${name}`;
}

function readCount(file: string): number {
  return Number(readFileSync(file, 'utf8').trim());
}

/**
 * Runs `fn` with the mount point of a fresh hugetlbfs holding at least `miB` MiB of free huge pages of the
 * default size. The pages are added to the pool (relative to what it holds, so that concurrent users of the
 * pool keep theirs) and taken away again, and the file system is unmounted, however `fn` ends.
 */
export async function withHugetlbfs<T>(miB: number, fn: (mountPoint: string) => Promise<T>): Promise<T> {
  if (process.getuid?.() !== 0) {
    throw new Error('a hugetlbfs test needs root to mount hugetlbfs and reserve huge pages: run the suite as root (npm test does), or mount one at /dev/hugepages with enough free pages');
  }
  const sizeKiB = Number(/^Hugepagesize:\s+(\d+)\s+kB/m.exec(readFileSync('/proc/meminfo', 'utf8'))?.[1] ?? NaN);
  if (!Number.isFinite(sizeKiB)) throw new Error('this kernel reports no Hugepagesize in /proc/meminfo: it has no huge page support');
  const pages = Math.ceil((miB * 1024) / sizeKiB);
  const nr = poolFile(sizeKiB, 'nr_hugepages');
  const dir = mkdtempSync(join(tmpdir(), 'vmkit-hugetlbfs-'));
  let mounted = false;
  let added = 0;
  try {
    execFileSync('mount', ['-t', 'hugetlbfs', '-o', `pagesize=${sizeKiB}K,mode=0700`, 'none', dir], { stdio: ['ignore', 'ignore', 'pipe'] });
    mounted = true;
    const before = readCount(nr);
    writeFileSync(nr, String(before + pages));
    added = readCount(nr) - before;
    const free = readCount(poolFile(sizeKiB, 'free_hugepages'));
    if (free < pages) {
      throw new Error(`the kernel reserved ${added} of the ${pages} huge pages of ${sizeKiB} KiB asked for (${free} free): host memory is short or fragmented`);
    }
    return await fn(dir);
  } finally {
    if (mounted) execFileSync('umount', [dir], { stdio: 'ignore' });
    rmdirSync(dir);
    if (added > 0) writeFileSync(nr, String(Math.max(0, readCount(nr) - added)));
  }
}
