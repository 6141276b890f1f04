/**
 * fast-check arbitraries for definitions: arbitrary text, seeds with text edits (tokens that matter to YAML
 * and XML inserted, ranges deleted or repeated), and native YAML whose data was mutated as a tree (values
 * replaced, keys added or dropped, lists grown, deep nesting) and written back in block or flow style.
 */
import fc from 'fast-check';
import { stringify } from 'yaml';
import { readYaml } from '../../src/config/yaml-source.js';

const YAML_TOKENS = [
  '{', '}', '[', ']', ': ', ':', '- ', '-', '&a ', '*a', '!!str ', '!!binary ', '!custom ', '|\n', '>-\n', '# c', '"', "'", '\\', '\n', '  ', '\t', ',', '? ',
  '---\n', '...\n', '%YAML 1.2\n', '~', 'null', 'true', '0x1F', '0o17', '01', '1e309', '-1', '.inf', '.nan', '<<: *a\n', '\u0000', '\uFEFF', 'é', '\r\n',
  'name: x\n', 'disks:\n  - ', 'format: raw', 'path: "a,file=/etc/shadow"', 'memory: 1G', 'qemu_args: [ -device, x ]', '[[[[[[[[', '{a: {a: {a: ',
];

const XML_TOKENS = [
  '<', '>', '/>', '</', '<x>', '</x>', '<x/>', '="', "='", '"', "'", '&amp;', '&lt;', '&#0;', '&#x41;', '&bogus;', '<!--', '-->', '<![CDATA[', ']]>',
  '<!DOCTYPE x [<!ENTITY a "b">]>', '<?xml version="1.0"?>', 'xmlns:q="http://libvirt.org/schemas/domain/qemu/1.0"', '<q:commandline><q:arg value="-S"/></q:commandline>',
  '\u0000', '\uFFFE', '\n', ' ', 'unit="GiB"', "type='file'", "<disk type='file'><driver type='raw'/><source file='a,b'/><target dev='vda'/></disk>",
  '<devices>', '</devices>', '<a><a><a><a><a><a><a><a>', '<foo bar="1"/>', 'placement="auto"', '<vcpu>4096</vcpu>', '<memory>99999999999999999999</memory>',
];

/** One edit of a text, positions as fractions of its length (so they apply to any text). */
type Edit =
  | { readonly kind: 'insert'; readonly at: number; readonly token: string; readonly times: number }
  | { readonly kind: 'delete'; readonly at: number; readonly length: number }
  | { readonly kind: 'repeat'; readonly at: number; readonly length: number; readonly times: number }
  | { readonly kind: 'replace'; readonly at: number; readonly with: string };

function editArb(tokens: readonly string[]): fc.Arbitrary<Edit> {
  const at = fc.double({ min: 0, max: 1, noNaN: true });
  return fc.oneof(
    fc.record({ kind: fc.constant('insert' as const), at, token: fc.oneof(fc.constantFrom(...tokens), fc.string({ maxLength: 8 }), fc.string({ unit: 'binary', maxLength: 4 })), times: fc.integer({ min: 1, max: 3 }) }),
    fc.record({ kind: fc.constant('delete' as const), at, length: fc.integer({ min: 1, max: 40 }) }),
    fc.record({ kind: fc.constant('repeat' as const), at, length: fc.integer({ min: 1, max: 200 }), times: fc.integer({ min: 2, max: 50 }) }),
    fc.record({ kind: fc.constant('replace' as const), at, with: fc.constantFrom(...tokens) }),
  );
}

export function applyEdits(text: string, edits: readonly Edit[]): string {
  let t = text;
  for (const e of edits) {
    const i = Math.min(t.length, Math.floor(e.at * (t.length + 1)));
    switch (e.kind) {
      case 'insert':
        t = t.slice(0, i) + e.token.repeat(e.times) + t.slice(i);
        break;
      case 'delete':
        t = t.slice(0, i) + t.slice(i + e.length);
        break;
      case 'repeat':
        t = t.slice(0, i) + t.slice(i, i + e.length).repeat(e.times) + t.slice(i + e.length);
        break;
      case 'replace':
        t = t.slice(0, i) + e.with + t.slice(i + e.with.length);
        break;
    }
  }
  return t;
}

/** A seed with up to `max` edits. */
export function editedSeed(seeds: readonly string[], kind: 'yaml' | 'xml', max = 6): fc.Arbitrary<string> {
  return fc.tuple(fc.constantFrom(...seeds), fc.array(editArb(kind === 'yaml' ? YAML_TOKENS : XML_TOKENS), { maxLength: max })).map(([s, edits]) => applyEdits(s, edits));
}

/** Any text at all, and text built only of YAML or XML tokens. */
export function arbitraryText(): fc.Arbitrary<string> {
  return fc.oneof(
    fc.string({ maxLength: 300 }),
    fc.string({ unit: 'binary', maxLength: 300 }),
    fc.array(fc.constantFrom(...YAML_TOKENS), { maxLength: 60 }).map((a) => a.join('')),
    fc.array(fc.constantFrom(...XML_TOKENS), { maxLength: 60 }).map((a) => a.join('')),
  );
}

// ---- tree mutations of native YAML ----------------------------------------------------------------------

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

const KNOWN_KEYS = [
  'name', 'uuid', 'memory', 'machine', 'cpu', 'vcpus', 'disks', 'nics', 'path', 'format', 'bus', 'cache', 'aio', 'iothread', 'boot_index', 'serial',
  'graphics', 'type', 'model', 'mac', 'mtu', 'boot', 'kernel', 'initrd', 'cmdline', 'firmware', 'pflash', 'tuning', 'pinning', 'vcpus', 'emulator',
  'qemu_args', 'env', 'user', 'group', 'iothreads', 'numa', 'numa_cells', 'memory_backing', 'hugepages', 'clock', 'timers', 'lifecycle', 'features',
  'rngs', 'hostdevs', 'balloon', 'forwards', 'host', 'guest', 'media', 'readonly', 'sockets', 'cores', 'threads', 'max_vcpus', 'accel',
];

/** Values that stress the readers and resolvers: commas and `=` for QEMU options, odd numbers, long strings. */
function leafArb(): fc.Arbitrary<Json> {
  return fc.oneof(
    fc.constantFrom<Json>(null, true, false, 0, -1, 1.5, 2 ** 53, 1e300, '', ' ', 'a,file=/etc/shadow', 'x,,y', '../../etc/passwd', '/dev/null', '0-3,^2', '1G', '512M', 'auto', 'none', 'virtio', 'raw', 'qcow2'),
    fc.string({ maxLength: 20 }),
    fc.integer(),
    fc.double({ noNaN: true }),
  );
}

type Mutation =
  | { readonly kind: 'set'; readonly pick: number; readonly value: Json }
  | { readonly kind: 'drop'; readonly pick: number }
  | { readonly kind: 'add'; readonly pick: number; readonly key: string; readonly value: Json }
  | { readonly kind: 'grow'; readonly pick: number; readonly times: number }
  | { readonly kind: 'nest'; readonly pick: number; readonly depth: number };

function mutationArb(): fc.Arbitrary<Mutation> {
  const pick = fc.nat();
  const value = fc.oneof({ depthSize: 'small' }, leafArb(), fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<Json>);
  return fc.oneof(
    fc.record({ kind: fc.constant('set' as const), pick, value }),
    fc.record({ kind: fc.constant('drop' as const), pick }),
    fc.record({ kind: fc.constant('add' as const), pick, key: fc.oneof(fc.constantFrom(...KNOWN_KEYS), fc.string({ maxLength: 12 })), value }),
    fc.record({ kind: fc.constant('grow' as const), pick, times: fc.integer({ min: 2, max: 300 }) }),
    fc.record({ kind: fc.constant('nest' as const), pick, depth: fc.integer({ min: 1, max: 120 }) }),
  );
}

/** Every container (object or list) in `v`, with the key or index of each of its entries. */
function containers(v: Json, out: { holder: Json[] | { [k: string]: Json }; key: string | number }[] = []): typeof out {
  if (Array.isArray(v)) v.forEach((x, i) => (out.push({ holder: v, key: i }), containers(x, out)));
  else if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) out.push({ holder: v, key: k }), containers(x, out);
  return out;
}

function mutate(root: Json, m: Mutation): void {
  const slots = containers(root);
  const slot = slots[m.pick % Math.max(1, slots.length)];
  if (slot === undefined) return;
  const { holder, key } = slot;
  const get = (): Json => (holder as Record<string | number, Json>)[key] ?? null;
  const set = (v: Json): void => {
    (holder as Record<string | number, Json>)[key] = v;
  };
  switch (m.kind) {
    case 'set':
      set(m.value);
      break;
    case 'drop':
      if (Array.isArray(holder)) holder.splice(key as number, 1);
      else delete holder[key as string];
      break;
    case 'add': {
      const v = get();
      if (v !== null && typeof v === 'object' && !Array.isArray(v)) v[m.key] = m.value;
      else if (Array.isArray(v)) v.push(m.value);
      break;
    }
    case 'grow': {
      const v = get();
      if (Array.isArray(v) && v.length > 0) set(Array.from({ length: m.times }, (_, i) => structuredClone(v[i % v.length] as Json)));
      break;
    }
    case 'nest': {
      let v = get();
      for (let i = 0; i < m.depth; i++) v = i % 2 === 0 ? [v] : { k: v };
      set(v);
      break;
    }
  }
}

/** Native (or launcher) YAML seeds read into data, mutated as a tree and written back as YAML. */
export function mutatedYaml(seeds: readonly string[]): fc.Arbitrary<string> {
  const data = seeds.map((s) => readYaml(s).value).filter((v): v is Json => v !== undefined && v !== null && typeof v === 'object');
  return fc
    .tuple(fc.constantFrom(...data), fc.array(mutationArb(), { minLength: 1, maxLength: 5 }), fc.constantFrom<'block' | 'flow'>('block', 'flow'))
    .map(([d, ms, style]) => {
      const root = structuredClone(d);
      for (const m of ms) mutate(root, m);
      try {
        return stringify(root, style === 'flow' ? { collectionStyle: 'flow', lineWidth: 0 } : { lineWidth: 0 });
      } catch {
        return JSON.stringify(root);
      }
    });
}

/** A marker that starts a new QEMU option key if a comma in user data is not escaped. */
export const COMMA_MARKER = ',vmkitfuzz=1';

/** Native YAML seeds whose string values have COMMA_MARKER inserted. */
export function markedYaml(seeds: readonly string[]): fc.Arbitrary<string> {
  const data = seeds.map((s) => readYaml(s).value).filter((v): v is Json => v !== undefined && v !== null && typeof v === 'object');
  return fc.tuple(fc.constantFrom(...data), fc.array(fc.nat(), { minLength: 1, maxLength: 8 }), fc.boolean()).map(([d, picks, all]) => {
    const root = structuredClone(d);
    const strings = containers(root).filter(({ holder, key }) => typeof (holder as Record<string | number, Json>)[key] === 'string');
    const chosen = all ? strings : picks.map((p) => strings[p % Math.max(1, strings.length)]).filter((s) => s !== undefined);
    for (const { holder, key } of chosen) {
      const h = holder as Record<string | number, Json>;
      h[key] = `${String(h[key])}${COMMA_MARKER}`;
    }
    return stringify(root, { lineWidth: 0 });
  });
}

/** libvirt XML seeds with COMMA_MARKER inserted into attribute values and element text. */
export function markedXml(seeds: readonly string[]): fc.Arbitrary<string> {
  return fc.tuple(fc.constantFrom(...seeds), fc.array(fc.nat(), { minLength: 1, maxLength: 8 }), fc.boolean()).map(([s, picks, all]) => {
    const spots: number[] = [];
    const re = /='[^']*|="[^"]*|>[^<\s][^<]*(?=<\/)/g;
    for (let m = re.exec(s); m !== null; m = re.exec(s)) spots.push(m.index + m[0].length);
    const chosen = new Set(all ? spots : picks.map((p) => spots[p % Math.max(1, spots.length)] ?? 0));
    let out = '';
    let last = 0;
    for (const at of [...chosen].sort((a, b) => a - b)) {
      out += s.slice(last, at) + COMMA_MARKER;
      last = at;
    }
    return out + s.slice(last);
  });
}
