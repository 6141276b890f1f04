import assert from 'node:assert/strict';
import { test } from 'node:test';
import { seedFiles } from '../../src/storage/cloud-init.js';
import { fatImage } from '../../src/storage/fat.js';

/** A minimal FAT12/16 reader written from the specification, independent of the writer. */
function readFat(img: Uint8Array): { label: string; bootLabel: string; type: string; files: Map<string, Buffer> } {
  const b = Buffer.from(img);
  const bps = b.readUInt16LE(11);
  const spc = b.readUInt8(13);
  const reserved = b.readUInt16LE(14);
  const fats = b.readUInt8(16);
  const rootEntries = b.readUInt16LE(17);
  const total = b.readUInt16LE(19) || b.readUInt32LE(32);
  const fatSize = b.readUInt16LE(22);
  assert.equal(b.readUInt16LE(510), 0xaa55);
  const rootStart = (reserved + fats * fatSize) * bps;
  const dataStart = rootStart + rootEntries * 32;
  const clusters = Math.floor((total * bps - dataStart) / (spc * bps));
  const fat12 = clusters < 4085;
  const next = (n: number): number => {
    const fat = reserved * bps;
    if (!fat12) return b.readUInt16LE(fat + n * 2);
    const v = b.readUInt16LE(fat + Math.floor((n * 3) / 2));
    return n % 2 === 0 ? v & 0xfff : v >> 4;
  };
  const files = new Map<string, Buffer>();
  let label = '';
  let lfn: string[] = [];
  for (let i = 0; i < rootEntries; i++) {
    const e = rootStart + i * 32;
    if (b[e] === 0) break;
    const attr = b[e + 11] as number;
    if (attr === 0x0f) {
      const chars = [1, 3, 5, 7, 9, 14, 16, 18, 20, 22, 24, 28, 30].map((o) => b.readUInt16LE(e + o)).filter((c) => c !== 0 && c !== 0xffff);
      lfn.unshift(String.fromCharCode(...chars));
      continue;
    }
    if (attr === 0x08) {
      label = b.toString('ascii', e, e + 11).trimEnd();
      continue;
    }
    const name = lfn.join('');
    lfn = [];
    const size = b.readUInt32LE(e + 28);
    const parts: Buffer[] = [];
    for (let c = b.readUInt16LE(e + 26); size > 0 && c >= 2 && c < (fat12 ? 0xff8 : 0xfff8); c = next(c)) parts.push(b.subarray(dataStart + (c - 2) * spc * bps, dataStart + (c - 1) * spc * bps));
    files.set(name, Buffer.concat(parts).subarray(0, size));
  }
  return { label, bootLabel: b.toString('ascii', 43, 54).trimEnd(), type: b.toString('ascii', 54, 62).trimEnd(), files };
}

test('fatImage() writes a FAT volume labelled CIDATA whose long file names and contents read back', () => {
  const big = Buffer.alloc(300_000, 7);
  const img = fatImage(
    [
      { name: 'meta-data', data: Buffer.from('instance-id: x\n') },
      { name: 'user-data', data: Buffer.from('#cloud-config\n') },
      { name: 'network-config', data: Buffer.alloc(0) },
      { name: 'a-rather-long-file-name-for-several-entries.bin', data: big },
    ],
    { label: 'cidata' },
  );
  const fs = readFat(img);
  assert.equal(fs.label, 'CIDATA');
  assert.equal(fs.bootLabel, 'CIDATA');
  assert.equal(fs.type, 'FAT12');
  assert.deepEqual([...fs.files.keys()], ['meta-data', 'user-data', 'network-config', 'a-rather-long-file-name-for-several-entries.bin']);
  assert.equal(fs.files.get('meta-data')?.toString(), 'instance-id: x\n');
  assert.deepEqual(fs.files.get('a-rather-long-file-name-for-several-entries.bin'), big);
});

test('fatImage() switches to FAT16 when the clusters need it, and refuses what FAT cannot hold', () => {
  const fs = readFat(fatImage([{ name: 'x', data: Buffer.alloc(3_000_000, 1) }], { label: 'CIDATA' }));
  assert.equal(fs.type, 'FAT16');
  assert.equal(fs.files.get('x')?.length, 3_000_000);
  assert.throws(() => fatImage([{ name: 'a/b', data: Buffer.alloc(1) }], { label: 'x' }), /Invalid file name/);
  assert.throws(() => fatImage([{ name: 'A', data: Buffer.alloc(1) }, { name: 'a', data: Buffer.alloc(1) }], { label: 'x' }), /case-insensitive/);
  assert.throws(() => fatImage([], { label: 'much-too-long-label' }), /volume label/);
});

test('seedFiles() writes cloud-init NoCloud meta-data and #cloud-config user-data for every customization', () => {
  const [meta, user] = seedFiles(
    {
      hostname: 'web1.example.com',
      rootPassword: 'pw: "quoted"',
      sshKeys: [{ user: 'root', keys: ['ssh-ed25519 AAAAC3Nza test@host'] }],
      install: ['nginx', 'curl'],
      runCommands: ['echo early'],
      firstbootCommands: ['echo late; touch /x'],
      files: [{ path: '/etc/motd', base64: Buffer.from('hi').toString('base64') }],
      timezone: 'Europe/London',
    },
    'vmkit-1',
  );
  assert.equal(meta?.name, 'meta-data');
  assert.equal(meta?.data.toString(), 'instance-id: vmkit-1\nlocal-hostname: web1.example.com\n');
  const text = user?.data.toString() ?? '';
  assert.match(text, /^#cloud-config\n/);
  for (const line of ['hostname: web1', 'fqdn: web1.example.com', 'timezone: Europe/London', '- nginx', 'disable_root: false', 'encoding: b64', 'path: /etc/motd', '- cloud-init-per', 'package_update: true']) assert.ok(text.includes(line), `${line} in\n${text}`);
  assert.ok(text.includes("password: 'pw: \"quoted\"'") || text.includes('password: "pw: \\"quoted\\""'), 'the password is quoted as YAML');
  assert.throws(() => seedFiles({ hostname: 'bad host' }, 'i'), /--hostname/);
  assert.throws(() => seedFiles({ files: [{ path: 'relative', base64: '' }] }, 'i'), /must be absolute/);
});
