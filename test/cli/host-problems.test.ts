/**
 * Problems found after a definition is parsed (a libvirt network or host bridge this machine lacks, a
 * machine type its QEMU lacks) are printed like the definition's own: `file:line:col: path: message`, in
 * every format, never as `undefined`. Each run is refused before QEMU starts.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli } from '../helpers/cli.js';
import { formatCpuSet, parseCpuSet } from '../../src/util/cpu-set.js';

const NO_NET = 'vmkit-test-absent';
const NO_BRIDGE = 'vmkitnobr0';

describe('host problems in the CLI carry file:line:col', () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  const file = (name: string): string => join(dir, name);
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vmkit-test-hostprob-'));
    env = { VMKIT_CACHE_DIR: join(dir, 'cache') };
    const yaml = (name: string, nic: string): string => [`name: ${name}`, 'machine: { type: q35, accel: tcg }', 'memory: 64M', 'nics:', `  - ${nic}`].join('\n');
    await writeFile(file('net.yaml'), yaml('net', `{ type: network, network: ${NO_NET} }`));
    await writeFile(file('bridge.yaml'), yaml('br', `{ type: bridge, bridge: ${NO_BRIDGE} }`));
    const xml = (name: string, machine: string, devices: string): string =>
      [
        "<domain type='qemu'>",
        `  <name>${name}</name>`,
        "  <memory unit='MiB'>64</memory>",
        `  <os><type arch='x86_64' machine='${machine}'>hvm</type></os>`,
        '  <features><acpi/></features>',
        '  <devices>',
        devices,
        '  </devices>',
        '</domain>',
      ].join('\n');
    await writeFile(file('net.xml'), xml('netx', 'q35', `    <interface type='network'><source network='${NO_NET}'/></interface>`));
    await writeFile(file('bridge.xml'), xml('brx', 'q35', `    <interface type='bridge'><source bridge='${NO_BRIDGE}'/></interface>`));
    await writeFile(file('rhel.xml'), xml('rhel', 'pc-q35-rhel9.2.0', ''));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('vmkit argv: a libvirt network this host lacks, in YAML and in XML', async () => {
    const y = await runCli(['argv', file('net.yaml')], { env }).done;
    assert.equal(y.code, 1, y.stderr);
    assert.doesNotMatch(y.stderr, /undefined/);
    assert.match(y.stderr, new RegExp(`^vmkit: ${file('net.yaml')}:5:31: nics\\[0\\]\\.network: There is no libvirt network ${NO_NET} \\(looked for /run/libvirt/network/${NO_NET}\\.xml`, 'm'));
    const x = await runCli(['argv', file('net.xml')], { env }).done;
    assert.equal(x.code, 1, x.stderr);
    assert.doesNotMatch(x.stderr, /undefined/);
    assert.match(x.stderr, new RegExp(`^vmkit: ${file('net.xml')}:7:39: /domain/devices/interface/source/@network: There is no libvirt network ${NO_NET}`, 'm'));
    const json = await runCli(['argv', '--json', file('net.yaml')], { env }).done;
    const problems = (JSON.parse(json.stdout) as { error: { code: string; details: { problems: unknown[] } } }).error.details.problems;
    assert.deepEqual(problems.map((p) => { const { message: _m, ...rest } = p as Record<string, unknown>; return rest; }), [
      { file: file('net.yaml'), line: 5, col: 31, path: 'nics[0].network', found: `"${NO_NET}"` },
    ]);
  });

  it('vmkit run: a host bridge this host lacks is refused before QEMU starts, in YAML and in XML', { timeout: 60_000 }, async () => {
    for (const [name, at] of [
      ['bridge.yaml', '5:29: nics\\[0\\]\\.bridge'],
      ['bridge.xml', '7:38: /domain/devices/interface/source/@bridge'],
    ] as const) {
      const r = await runCli(['run', file(name)], { env }).done;
      assert.equal(r.code, 1, r.stderr);
      assert.doesNotMatch(r.stderr, /undefined/);
      assert.match(r.stderr, /^vmkit: Cannot connect domain \S+ to its bridge:$/m);
      assert.match(r.stderr, new RegExp(`^vmkit: ${file(name)}:${at}: there is no host bridge ${NO_BRIDGE} \\(create it: ip link add ${NO_BRIDGE} type bridge`, 'm'));
      assert.doesNotMatch(r.stderr, /started '/, 'QEMU never started');
    }
  });

  it('vmkit validate and argv: isolation asked for over every host CPU is an error at tuning.isolate (implied isolation only warns)', async () => {
    const online = parseCpuSet((await readFile('/sys/devices/system/cpu/online', 'utf8')).trim());
    const pins = online.map((c, i) => `${i}: "${c}"`).join(', ');
    await writeFile(file('isolate.yaml'), ['name: iso', 'machine: { type: q35, accel: tcg }', `cpu: { vcpus: ${online.length} }`, 'tuning:', `  pinning: { vcpus: { ${pins} } }`, '  isolate: true'].join('\n'));
    const expected = new RegExp(`^${file('isolate.yaml')}:6:12: tuning\\.isolate: isolating CPUs ${formatCpuSet(online)} would leave no CPU for the host's other tasks`, 'm');
    const v = await runCli(['validate', file('isolate.yaml')], { env }).done;
    assert.equal(v.code, 2, v.stdout + v.stderr);
    assert.match(v.stdout, expected);
    const a = await runCli(['argv', file('isolate.yaml')], { env }).done;
    assert.equal(a.code, 2, a.stderr);
    assert.match(a.stderr.replace(/^vmkit: /gm, ''), expected);
  });

  it('vmkit validate: a machine type exported on another distribution gets its position and the newest of its family', async () => {
    const r = await runCli(['validate', file('rhel.xml')], { env }).done;
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.match(
      r.stdout,
      new RegExp(`^${file('rhel.xml')}:4:27: /domain/os/type/@machine: Machine type "pc-q35-rhel9\\.2\\.0" is not available in \\S+qemu-system-x86_64 \\(QEMU [\\d.]+\\): did you mean pc-q35-\\d+\\.\\d+ \\(or q35\\)\\? \\(found "pc-q35-rhel9\\.2\\.0"\\)$`, 'm'),
    );
  });
});
