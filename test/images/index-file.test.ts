import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError } from '../../src/errors.js';
import { canonicalText, clearsignedBody, assembleClearsigned } from '../../src/images/clearsigned.js';
import { findTemplate, mergeIndexes, parseIndex, templateUrl, writeIndex } from '../../src/images/index-file.js';
import { humanSize, listJson, listLong, listShort, noteLanguages, notesText } from '../../src/images/list-format.js';
import { parseRepoConf } from '../../src/images/repo-config.js';
import { noProxy, proxyFor } from '../../src/images/proxy.js';

const URI = 'http://127.0.0.1:8080/repo/index.asc';
const SUM = 'ab'.repeat(64);

const INDEX = `# a comment
[fedora-42]
name=Fedora® 42
osinfo=fedora42
arch=x86_64
file=fedora-42.xz
checksum[sha512]=${SUM}
revision=3
format=raw
size=6442450944
compressed_size=148947524
expand=/dev/sda3
notes=This image was prepared using
 the following kickstart script:
 
  part /boot --fstype ext3
notes[fr]=Préparée avec kickstart.
aliases=fedora-latest fedora

[fedora-42]
arch=aarch64
file=fedora-42-aarch64.xz
checksum=${'CD'.repeat(64)}
size=1024
hidden=true
`;

test('parseIndex() reads every field, notes with continuation lines (a line of one space is blank) and notes[LANG]', () => {
  const [x86, arm] = parseIndex(INDEX, URI);
  assert.deepEqual(x86, {
    id: 'fedora-42',
    name: 'Fedora® 42',
    osinfo: 'fedora42',
    arch: 'x86_64',
    file: 'fedora-42.xz',
    sha512: SUM,
    revision: 3,
    format: 'raw',
    size: 6442450944,
    compressedSize: 148947524,
    expand: '/dev/sda3',
    notes: [
      { lang: '', text: 'This image was prepared using\nthe following kickstart script:\n\n part /boot --fstype ext3' },
      { lang: 'fr', text: 'Préparée avec kickstart.' },
    ],
    hidden: false,
    aliases: ['fedora-latest', 'fedora'],
  });
  assert.equal(arm?.arch, 'aarch64');
  assert.equal(arm?.sha512, 'cd'.repeat(64), 'plain checksum= is the sha512 alias');
  assert.equal(arm?.revision, 1, 'revision defaults to 1');
  assert.equal(arm?.hidden, true);
});

test('writeIndex() writes what parseIndex() reads back the same', () => {
  const entries = parseIndex(INDEX, URI);
  assert.deepEqual(parseIndex(writeIndex(entries), URI), entries);
});

test('parseIndex() refuses file= outside the index directory: .., absolute paths, URIs and other hosts, each at its line', () => {
  for (const [file, why] of [
    ['../x.xz', /'\.\.'/],
    ['a/../../x.xz', /'\.\.'/],
    ['/etc/shadow', /relative path/],
    ['//evil.example/x.xz', /relative path/],
    ['http://evil.example/x.xz', /not a URI/],
    ['file:///etc/passwd', /not a URI/],
  ] as const) {
    const text = `[t]\narch=x86_64\nfile=${file}\nsize=1\n`;
    assert.throws(() => parseIndex(text, URI), (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      assert.equal(e.problems[0]?.line, 3);
      assert.equal(e.problems[0]?.path, '[t].file');
      assert.match(e.problems[0]?.message ?? '', why);
      return true;
    });
  }
  assert.deepEqual(templateUrl(URI, 'sub/dir/x y.xz'), { url: 'http://127.0.0.1:8080/repo/sub/dir/x%20y.xz' });
});

test('parseIndex() reports every problem: repeated fields, a repeated os-version on one arch, missing fields, bad numbers and lines', () => {
  const text = '[a]\narch=x86_64\narch=x86_64\nfile=a.xz\nsize=x\n[a]\narch=x86_64\nfile=b.xz\nsize=1\n[b]\nfile=c\n!!!\nchecksum=zz\nsize=1\narch=x\n';
  assert.throws(() => parseIndex(text, URI), (e: unknown) => {
    assert.ok(e instanceof ConfigError);
    const lines = e.problems.map((p) => `${p.line}:${p.path}`).sort();
    assert.deepEqual(lines, ['12:[b]', '13:[b].checksum[sha512]', '3:[a].arch', '5:[a].size'].sort());
    return true;
  });
  assert.throws(() => parseIndex('[a]\nfile=a\narch=x\n', URI), /No size= field/);
  assert.throws(() => parseIndex('[a]\nfile=a\nsize=1\n', URI), /No arch= entry/);
  assert.throws(() => parseIndex('[a]\narch=x\n[b]\n', URI), /No file= entry/);
});

test('mergeIndexes() keeps the highest revision of each os-version and arch; findTemplate() resolves aliases first', () => {
  const a = parseIndex('[t]\narch=x86_64\nfile=a\nsize=1\nrevision=2\n', URI);
  const b = parseIndex('[t]\narch=x86_64\nfile=b\nsize=1\nrevision=5\naliases=latest\n[u]\narch=x86_64\nfile=c\nsize=1\n', URI);
  const merged = mergeIndexes([a, b]);
  assert.deepEqual(merged.map((e) => `${e.id}:${e.revision}`), ['t:5', 'u:1']);
  assert.equal(findTemplate(merged, 'latest', 'x86_64')?.file, 'b');
  assert.equal(findTemplate(merged, 't', 'amd64')?.file, 'b');
  assert.equal(findTemplate(merged, 't', 'aarch64'), undefined);
});

test('humanSize() matches virt-builder: bytes, then one decimal of K, M or G, ties rounded to even', () => {
  assert.equal(humanSize(1023), '1023');
  assert.equal(humanSize(1024), '1.0K');
  assert.equal(humanSize(6442450944), '6.0G');
  assert.equal(humanSize(148947524), '142.0M');
  assert.equal(humanSize(1280), '1.2K', '1.25 rounds to even');
  assert.equal(humanSize(1792), '1.8K', '1.75 rounds to even');
  assert.equal(humanSize(4194620), '4.0M');
});

test('image list / list --long / --notes print virt-builder\'s layout exactly', () => {
  const entries = parseIndex(INDEX, URI);
  assert.equal(listShort(entries), 'fedora-42                x86_64     Fedora® 42\n');
  const long = listLong(entries, [{ uri: URI, key: '/etc/vmkit/repos.d/test.asc' }], ['en_US', 'en', '']);
  assert.equal(
    long,
    [
      `Source URI: ${URI}`,
      'Key: /etc/vmkit/repos.d/test.asc',
      '',
      'os-version:              fedora-42',
      'Full name:               Fedora® 42',
      'Architecture:            x86_64',
      'Minimum/default size:    6.0G',
      'Download size:           142.0M',
      'Aliases:                 fedora-latest fedora',
      '',
      'Notes:',
      '',
      'This image was prepared using',
      'the following kickstart script:',
      '',
      ' part /boot --fstype ext3',
      '',
      '',
    ].join('\n'),
  );
  assert.equal(notesText(entries[0] as never, noteLanguages({ LANG: 'fr_FR.UTF-8' })), 'Préparée avec kickstart.\n');
  assert.equal(notesText(entries[0] as never, noteLanguages({ LANG: 'C' })), `${entries[0]?.notes[0]?.text}\n`);
  assert.equal(notesText(entries[1] as never, ['']), 'There are no notes for fedora-42\n');
  const json = listJson(entries, [{ uri: URI, key: '/k' }]) as { version: number; sources: object[]; templates: Record<string, unknown>[] };
  assert.equal(json.version, 1);
  assert.deepEqual(json.sources, [{ key: '/k', uri: URI }]);
  assert.deepEqual(Object.keys(json.templates[0] ?? {}), ['os-version', 'full-name', 'arch', 'size', 'compressed-size', 'notes', 'aliases', 'osinfo', 'hidden']);
  assert.equal(json.templates[0]?.['compressed-size'], '148947524');
  assert.deepEqual(json.templates[0]?.notes, { C: entries[0]?.notes[0]?.text, fr: 'Préparée avec kickstart.' });
});

test('noteLanguages() follows LC_ALL, LC_MESSAGES, LANG: most specific first, plain notes last', () => {
  assert.deepEqual(noteLanguages({ LANG: 'fr_CA.UTF-8' }), ['fr_CA', 'fr', '']);
  assert.deepEqual(noteLanguages({ LC_ALL: 'de', LANG: 'fr_CA' }), ['de', '']);
  assert.deepEqual(noteLanguages({}), ['C', '']);
});

test('parseRepoConf() reads virt-builder .conf files: uri, gpgkey=file://, proxy modes, format=native; skips what it cannot use', () => {
  const { repos, warnings } = parseRepoConf(
    '[libguestfs.org]\nuri=http://example.org/index.asc\ngpgkey=file:///etc/virt-builder/repos.d/libguestfs.gpg\n\n[b]\nuri=file:///srv/index\nproxy=off\n\n[c]\nuri=http://x/\nproxy=http://proxy:3128\nformat=native\n\n[d]\nuri=http://y/\nformat=simplestreams\n\n[e]\ngpgkey=file:///k\n',
    '/etc/virt-builder/repos.d/x.conf',
  );
  assert.deepEqual(
    repos.map((r) => [r.name, r.uri, r.gpgkey, r.proxy]),
    [
      ['libguestfs.org', 'http://example.org/index.asc', '/etc/virt-builder/repos.d/libguestfs.gpg', { kind: 'system' }],
      ['b', 'file:///srv/index', undefined, { kind: 'none' }],
      ['c', 'http://x/', undefined, { kind: 'url', url: 'http://proxy:3128' }],
    ],
  );
  assert.deepEqual(warnings.map((w) => w.line), [14, 18], "[d] (simplestreams) and [e] (no uri) are skipped at their headers");
});

test('proxyFor() uses http_proxy/https_proxy unless no_proxy matches, a repository proxy= URL, or none', () => {
  const env = { http_proxy: 'http://p:3128', https_proxy: 'p2:8080', no_proxy: 'localhost,.internal' };
  assert.equal(proxyFor(new URL('http://a.example/x'), { kind: 'system' }, env)?.href, 'http://p:3128/');
  assert.equal(proxyFor(new URL('https://a.example/x'), { kind: 'system' }, env)?.host, 'p2:8080');
  assert.equal(proxyFor(new URL('http://repo.internal/x'), { kind: 'system' }, env), undefined);
  assert.equal(proxyFor(new URL('http://a.example/x'), { kind: 'none' }, env), undefined);
  assert.equal(proxyFor(new URL('http://a.example/x'), { kind: 'url', url: 'http://q:1' }, {})?.host, 'q:1');
  assert.equal(noProxy('x.y', '*'), true);
});

test('clearsigned text round-trips byte for byte: dash-escaping undone, trailing blanks (a one-space line) kept', () => {
  const text = '[a]\nnotes=x\n \n y  \n-dash\n';
  const signed = assembleClearsigned(text, 'SHA512', '-----BEGIN PGP SIGNATURE-----\n\nAAAA\n-----END PGP SIGNATURE-----\n');
  assert.match(signed, /\n- -dash\n/);
  assert.equal(clearsignedBody(signed), text);
  assert.equal(canonicalText(text), '[a]\nnotes=x\n\n y\n-dash\n');
});
