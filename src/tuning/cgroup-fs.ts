/**
 * The file operations the cgroup code needs, behind an interface so that tests can run the cgroup v2 path
 * on a simulated hierarchy where the real one cannot be used (e.g. cpuset bound to cgroup v1).
 * Errors keep node's `code` (`EBUSY`, `ESRCH`, ...).
 */
import { mkdir, readdir, readFile, rmdir, stat, writeFile } from 'node:fs/promises';

export interface CgroupFs {
  mkdir(path: string): Promise<void>;
  rmdir(path: string): Promise<void>;
  read(path: string): Promise<string>;
  /** One write(2) of `data` (cgroup files take one value per write). */
  write(path: string, data: string): Promise<void>;
  /** Names of the sub-directories (child cgroups) of `path`. */
  subdirs(path: string): Promise<string[]>;
  exists(path: string): Promise<boolean>;
}

export const realCgroupFs: CgroupFs = {
  mkdir: async (path) => {
    await mkdir(path);
  },
  rmdir: (path) => rmdir(path),
  read: (path) => readFile(path, 'utf8'),
  // 'r+': the file must exist (cgroup control files always do); never creates stray files.
  write: (path, data) => writeFile(path, data, { flag: 'r+' }),
  subdirs: async (path) => (await readdir(path, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name),
  exists: async (path) => {
    try {
      await stat(path);
      return true;
    } catch {
      return false;
    }
  },
};
