/**
 * The fuzzer's properties, shared by the short form in `npm test` (fuzz.test.ts) and the long campaign
 * (`npm run fuzz`, campaign.ts):
 *  - definitions (arbitrary text, edited seeds of the three formats, tree-mutated YAML): validateDefinition
 *    never throws, parseDefinition throws nothing but ConfigError, both agree, every problem has a file,
 *    line and column, at most MAX_PROBLEMS + 1 are listed, and each call returns within a bound;
 *  - the fast YAML reader gives exactly what the full reader gives, or declines;
 *  - the argv builder never lets a comma from user data start a new QEMU option;
 *  - the daemon answers arbitrary requests with typed errors, never 5xx, within a bound.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import fc from 'fast-check';
import { parseDefinition, validateDefinition } from '../../src/config/index.js';
import { MAX_PROBLEMS } from '../../src/config/limits.js';
import { readYamlFast } from '../../src/config/yaml-fast.js';
import { readYaml } from '../../src/config/yaml-source.js';
import { ConfigError, VmkitError, type Problem } from '../../src/errors.js';
import type { DomainSpec } from '../../src/model/domain.js';
import { buildArgv, parseOpts } from '../../src/qemu/index.js';
import { arbitraryText, COMMA_MARKER, editedSeed, markedXml, markedYaml, mutatedYaml } from './arbitraries.js';
import type { Seeds } from './seeds.js';

/** Longest one definition may take to read here (inputs are at most a few hundred KiB); generous for a loaded machine. */
export const PARSE_BOUND_MS = 5000;
/** Longest the daemon may take to answer one request (its parse time limit is set to 2 s in the fuzzer). */
export const REQUEST_BOUND_MS = 15_000;

const OPTS = { file: 'fuzz.def', baseDir: '/nonexistent/vmkit-fuzz' };

function describeProblems(ps: readonly Problem[]): string {
  return JSON.stringify(ps.slice(0, 3));
}

/** The checks every definition text must pass (see the file comment). */
export function checkDefinition(text: string, lenient = false): DomainSpec | undefined {
  const t0 = performance.now();
  let problems: readonly Problem[];
  try {
    problems = validateDefinition(text, { ...OPTS, lenient });
  } catch (e) {
    throw new Error(`validateDefinition threw ${String(e)}`, { cause: e });
  }
  const warnings: Problem[] = [];
  let spec: DomainSpec | undefined;
  let error: unknown;
  try {
    spec = parseDefinition(text, { ...OPTS, lenient, onWarning: (w) => warnings.push(w) });
  } catch (e) {
    error = e;
  }
  const ms = performance.now() - t0;
  assert.ok(ms < PARSE_BOUND_MS, `reading a ${text.length}-character definition took ${ms.toFixed(0)} ms`);
  if (error !== undefined) {
    assert.ok(error instanceof ConfigError, `parseDefinition threw ${String(error)} (not a ConfigError): ${(error as Error).stack ?? ''}`);
    assert.ok(problems.length > 0, 'parseDefinition refused a definition validateDefinition found no problem in');
    assert.deepEqual(error.problems, problems, 'parseDefinition and validateDefinition disagree');
  } else {
    assert.deepEqual(problems, [], 'parseDefinition accepted a definition validateDefinition has problems with');
    assert.ok(spec !== undefined && Object.isFrozen(spec) && Object.isFrozen(spec.disks), 'the spec is not frozen');
  }
  assert.ok(problems.length <= MAX_PROBLEMS + 1, `${problems.length} problems listed`);
  assert.ok(warnings.length <= MAX_PROBLEMS + 1, `${warnings.length} warnings listed`);
  for (const p of [...problems, ...warnings]) {
    assert.equal(p.file, OPTS.file, `a problem without its file: ${describeProblems([p])}`);
    assert.ok(Number.isInteger(p.line) && (p.line ?? 0) >= 1 && Number.isInteger(p.col) && (p.col ?? 0) >= 1, `a problem without line:col: ${describeProblems([p])}`);
    assert.ok(typeof p.message === 'string' && p.message.length > 0 && typeof p.path === 'string');
  }
  return spec;
}

/** The fast YAML reader either declines or gives exactly what the full reader gives, with no problem. */
export function checkFastYaml(text: string): void {
  const fast = readYamlFast(text);
  if (fast === undefined) return;
  const full = readYaml(text);
  assert.deepEqual(full.problems.list, [], 'the fast reader accepted a text the full reader has problems with');
  assert.equal(full.fatal, false);
  assert.deepStrictEqual(fast, full.value, 'the fast and full readers disagree');
}

/** Option values that QEMU does not split at commas (file names and the kernel command line). */
const FREE_TEXT_FLAGS = new Set(['-append', '-kernel', '-initrd', '-bios', '-pidfile', '-dtb']);

/** For a spec the parser accepts: the argv builder escapes every comma of user data (COMMA_MARKER never becomes a key). */
export function checkArgv(spec: DomainSpec): void {
  let argv: string[];
  try {
    argv = buildArgv(spec, {
      accel: 'tcg',
      now: new Date('2026-01-02T03:04:05Z'),
      paths: { qmpSocket: '/run/vmkit-fuzz/qmp.sock', consoleSocket: '/run/vmkit-fuzz/console.sock', pidFile: '/run/vmkit-fuzz/qemu.pid' },
      networkBridges: new Map(spec.nics.map((_, i) => [`net${i}`, 'virbr0'])),
    });
  } catch (e) {
    assert.ok(e instanceof VmkitError, `buildArgv threw ${String(e)}: ${(e as Error).stack ?? ''}`);
    return;
  }
  if (spec.rawOptions !== undefined) return; // qemu-launcher options are the user's own QEMU syntax
  const generated = argv.slice(0, argv.length - spec.qemuArgs.length); // qemu_args are passed as written
  const key = COMMA_MARKER.slice(1).split('=')[0] as string;
  for (let i = 1; i < generated.length; i++) {
    const flag = generated[i - 1] as string;
    const value = generated[i] as string;
    if (!flag.startsWith('-') || value.startsWith('-') || FREE_TEXT_FLAGS.has(flag) || !value.includes(key)) continue;
    const keys = parseOpts(value, 'implied').map(([k]) => k);
    assert.ok(!keys.includes(key), `an unescaped comma from user data in ${flag} ${value}`);
  }
}

/** Named properties over definitions (synchronous). */
export function definitionProperties(seeds: Seeds): Record<string, fc.IPropertyWithHooks<[string]> | fc.IProperty<[string]>> {
  const yamlSeeds = [...seeds.native, ...seeds.launcher];
  return {
    'arbitrary text': fc.property(arbitraryText(), (t) => void checkDefinition(t)),
    'edited native YAML': fc.property(editedSeed(seeds.native, 'yaml'), (t) => void checkDefinition(t)),
    'edited qemu-launcher YAML': fc.property(editedSeed(seeds.launcher, 'yaml'), (t) => void checkDefinition(t)),
    'edited libvirt XML': fc.property(editedSeed(seeds.xml, 'xml'), (t) => void checkDefinition(t)),
    'edited libvirt XML, lenient': fc.property(editedSeed(seeds.xml, 'xml'), (t) => void checkDefinition(t, true)),
    'tree-mutated YAML': fc.property(mutatedYaml(yamlSeeds), (t) => void checkDefinition(t)),
    'fast YAML reader agrees with the full reader': fc.property(fc.oneof(editedSeed(yamlSeeds, 'yaml'), mutatedYaml(yamlSeeds)), (t) => checkFastYaml(t)),
    'argv escapes commas of user data': fc.property(fc.oneof(markedYaml(seeds.native), markedXml(seeds.xml), mutatedYaml(seeds.native)), (t) => {
      const spec = checkDefinition(t);
      if (spec !== undefined) checkArgv(spec);
    }),
  };
}

// ---- the daemon ------------------------------------------------------------------------------------------

export interface RawReply {
  /** 0 when the daemon closed the connection without an answer. */
  readonly status: number;
  readonly headers: string;
  readonly body: string;
}

/** One raw HTTP/1.1 request on the unix socket (no client-side checks of the target), bounded by REQUEST_BOUND_MS. */
export function rawHttp(socket: string, method: string, target: string, body: string | undefined): Promise<RawReply> {
  return new Promise((resolve, reject) => {
    const s = net.createConnection({ path: socket });
    let data = Buffer.alloc(0);
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error(`no answer to ${method} ${target} within ${REQUEST_BOUND_MS} ms`));
    }, REQUEST_BOUND_MS);
    const finish = (): void => {
      clearTimeout(timer);
      s.destroy();
      const text = data.toString('utf8');
      const end = text.indexOf('\r\n\r\n');
      const head = end < 0 ? text : text.slice(0, end);
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0);
      resolve({ status, headers: head, body: end < 0 ? '' : text.slice(end + 4) });
    };
    s.on('data', (c: Buffer) => {
      data = Buffer.concat([data, c]);
      const text = data.toString('utf8');
      const end = text.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = text.slice(0, end);
      // An event stream never ends by itself: its head is the answer.
      if (/content-type: application\/x-ndjson/i.test(head)) return finish();
      const length = /content-length: (\d+)/i.exec(head);
      if (length !== null && Buffer.byteLength(text.slice(end + 4)) >= Number(length[1])) finish();
      if (method === 'HEAD' || /^HTTP\/1\.1 (1\d\d|204|304)/.test(head)) finish();
    });
    s.on('close', finish);
    s.on('error', () => finish());
    s.on('connect', () => {
      const payload = body === undefined ? '' : body;
      s.write(`${method} ${target} HTTP/1.1\r\nHost: vmkit\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(payload)}\r\n\r\n${payload}`);
    });
  });
}

const CODES = new Set(['InvalidConfig', 'InvalidArgument', 'NotFound', 'AlreadyExists', 'InvalidState', 'QemuFailed', 'QmpError', 'QmpClosed', 'Timeout', 'Aborted', 'HostError', 'Internal']);

/** A reply to a fuzzed request: an answer, never 5xx; errors are typed JSON. */
export function checkReply(r: RawReply, what: string): void {
  assert.ok(r.status >= 200 && r.status < 500, `${what}: HTTP ${r.status}\n${r.headers}\n${r.body.slice(0, 500)}`);
  if (r.status >= 400 && r.body !== '') {
    const body = JSON.parse(r.body) as { error?: { code?: string; message?: unknown } };
    assert.ok(body.error !== undefined && CODES.has(body.error.code ?? '') && typeof body.error.message === 'string', `${what}: untyped error ${r.body.slice(0, 300)}`);
    assert.notEqual(body.error.code, 'Internal', `${what}: ${r.body.slice(0, 300)}`);
  }
}

/** Characters sent as they are in a request target; the rest are %-encoded (a raw `%` stays: malformed escapes are the point). */
function target(path: string): string {
  return path.replace(/[^A-Za-z0-9\-._~!$&'()*+,;=:@/%?]/g, (c) => encodeURIComponent(c));
}

/** Arbitrary requests: methods, targets (with odd and malformed %-escapes) and bodies (junk, JSON, definitions). */
export function requestArb(seeds: Seeds): fc.Arbitrary<{ method: string; target: string; body: string | undefined }> {
  const definition = fc.oneof(editedSeed(seeds.native, 'yaml', 3), editedSeed(seeds.xml, 'xml', 3), mutatedYaml(seeds.native), arbitraryText());
  const segment = fc.oneof(
    fc.constantFrom('x', 'tiny', 'fedora', '%', '%zz', '%E0%A4%A', '%C0', '..', '%2F', '%00', 'a%20b', '%252F', ''),
    fc.string({ maxLength: 12 }).map(encodeURIComponent),
    fc.string({ maxLength: 12 }),
  );
  const path = fc.oneof(
    fc.constantFrom('/v1/domains', '/v1/daemon', '/openapi.json', '/v1/batch/define', '/v1/daemon/reset-stats', '/', '//x/v1/domains', '/v1', '/v2/domains', '/v1/events', '/v1/domains?x=%'),
    segment.map((s) => `/v1/domains/${s}`),
    fc.tuple(segment, fc.constantFrom('definition', 'shutdown', 'destroy', 'suspend', 'console', 'nope', '')).map(([s, a]) => `/v1/domains/${s}/${a}`),
    fc.array(segment, { maxLength: 6 }).map((a) => `/${a.join('/')}`),
  );
  const body = fc.oneof(
    fc.constant(undefined),
    fc.string({ maxLength: 200 }),
    fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
    definition.map((text) => JSON.stringify({ text })),
    fc.record({ text: definition, file: fc.string({ maxLength: 40 }), baseDir: fc.constantFrom('/', '/tmp', '../..', 'relative', ''), autostart: fc.boolean() }, { requiredKeys: ['text'] }).map((b) => JSON.stringify(b)),
    fc.array(definition, { maxLength: 4 }).map((ts) => JSON.stringify({ definitions: ts.map((text) => ({ text })) })),
    fc.record({ paused: fc.jsonValue(), timeoutMs: fc.jsonValue(), graceMs: fc.jsonValue(), autostart: fc.jsonValue(), policies: fc.jsonValue() }, { requiredKeys: [] }).map((b) => JSON.stringify(b)),
  );
  // No start, reboot or resume: the fuzzer defines domains, it does not boot them.
  return fc.record({ method: fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD'), target: path.map(target), body });
}

/** The daemon property: each request is answered (not 5xx) in time. */
export function daemonProperty(seeds: Seeds, socket: string): fc.IAsyncProperty<[{ method: string; target: string; body: string | undefined }]> {
  return fc.asyncProperty(requestArb(seeds), async (req) => {
    const r = await rawHttp(socket, req.method, req.target, req.body);
    checkReply(r, `${req.method} ${req.target} ${req.body?.slice(0, 200) ?? ''}`);
  });
}

/** Garbage on the socket: the daemon drops it and keeps serving. */
export function garbageProperty(socket: string): fc.IAsyncProperty<[Uint8Array]> {
  return fc.asyncProperty(fc.uint8Array({ maxLength: 2000 }), async (bytes) => {
    await new Promise<void>((resolve) => {
      const s = net.createConnection({ path: socket });
      const timer = setTimeout(() => s.destroy(), 500);
      s.on('connect', () => s.end(bytes));
      s.on('data', () => undefined);
      s.on('close', () => {
        clearTimeout(timer);
        resolve();
      });
      s.on('error', () => undefined);
    });
    const r = await rawHttp(socket, 'GET', '/v1/daemon', undefined);
    assert.equal(r.status, 200, `the daemon stopped answering after ${bytes.length} bytes of garbage`);
  });
}
