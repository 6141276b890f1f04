/** The fuzzer's seed definitions: every example and fixture definition of the repository, by format. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO } from '../helpers/guest.js';

export interface Seeds {
  /** Native vmkit YAML. */
  readonly native: readonly string[];
  /** qemu-launcher YAML. */
  readonly launcher: readonly string[];
  /** libvirt domain XML. */
  readonly xml: readonly string[];
}

function filesIn(dir: string, re: RegExp): string[] {
  return readdirSync(join(REPO, dir))
    .filter((f) => re.test(f))
    .sort()
    .map((f) => readFileSync(join(REPO, dir, f), 'utf8'));
}

export function loadSeeds(): Seeds {
  const yaml = [...filesIn('examples', /\.ya?ml$/), ...filesIn('test/fixtures/config', /\.ya?ml$/), ...filesIn('test/fixtures/libvirt', /\.ya?ml$/), ...filesIn('test/fixtures/host', /\.ya?ml$/)];
  const isLauncher = (t: string): boolean => /^(launcher|qemu)\s*:/m.test(t);
  return {
    native: yaml.filter((t) => !isLauncher(t)),
    launcher: yaml.filter(isLauncher),
    xml: filesIn('test/fixtures/libvirt', /\.xml$/),
  };
}
