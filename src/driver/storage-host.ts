/**
 * The storage services of a connection (`conn.images`, `conn.volumes`), made on first use: volumes in
 * `<root>/volumes`, given to the account QEMU runs as; the template cache shared by the connections of this
 * user (or the one the connection names); a volume in use by a domain is not deleted.
 */
import { join } from 'node:path';
import { readIdentity } from '../host/accounts.js';
import { imageCacheDir } from '../images/cache.js';
import { ImageService } from '../images/service.js';
import { VolumeService } from '../storage/volumes.js';
import type { DomainState } from './api-types.js';
import type { DomainSpec } from '../model/domain.js';

export interface StorageOwner {
  readonly root: string;
  readonly imageCacheDir?: string;
  readonly repoDirs?: readonly string[];
  readonly qemuUser?: string | number;
  list(): readonly { readonly name: string; readonly spec: DomainSpec; state(): DomainState }[];
}

export async function openStorage(conn: StorageOwner): Promise<{ images: ImageService; volumes: VolumeService }> {
  const owner = conn.qemuUser === undefined ? undefined : await readIdentity(conn.qemuUser, undefined);
  let images: ImageService | undefined;
  const volumes = new VolumeService({
    dir: join(conn.root, 'volumes'),
    ...(owner === undefined ? {} : { owner: { uid: owner.uid, gid: owner.gid } }),
    findImage: async (id, arch) => {
      const found = await images?.findCached(id, arch);
      return found === undefined ? undefined : { path: found.path, format: found.format };
    },
    usedBy: (name) =>
      conn
        .list()
        .filter((d) => d.spec.disks.some((x) => x.volume?.name === name))
        .map((d) => ({ domain: d.name, running: d.state() !== 'shutoff' })),
  });
  images = new ImageService({ cacheDir: conn.imageCacheDir ?? imageCacheDir(), volumes, ...(conn.repoDirs === undefined ? {} : { repoDirs: conn.repoDirs }) });
  return { images, volumes };
}
