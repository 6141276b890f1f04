/**
 * The daemon API's request and response schemas (TypeBox = JSON Schema). Request bodies are validated with
 * ajv against exactly these; the served OpenAPI document (openapi.ts) is built from them too.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { Ajv, type ValidateFunction } from 'ajv';
import { BODY_AJV_OPTIONS, checkBody } from './body-check.js';
import { MAX_DEFINITION_BYTES } from '../config/definition-text.js';

const Policy = Type.Union([Type.Literal('destroy'), Type.Literal('restart'), Type.Literal('preserve')], {
  description: 'What happens on the event: destroy (QEMU ends), restart (a fresh start / reset), preserve (QEMU kept, paused)',
});

export const PoliciesUpdate = Type.Object(
  { onPoweroff: Type.Optional(Policy), onReboot: Type.Optional(Policy), onCrash: Type.Optional(Policy) },
  { additionalProperties: false },
);

export const DefineBody = Type.Object(
  {
    text: Type.String({ maxLength: MAX_DEFINITION_BYTES, description: 'The definition: vmkit YAML, qemu-launcher YAML or libvirt XML' }),
    file: Type.Optional(Type.String({ maxLength: 4096, description: 'Where the text came from (problem locations, dump)' })),
    baseDir: Type.Optional(Type.String({ maxLength: 4096, description: 'Directory relative paths are resolved against' })),
    autostart: Type.Optional(Type.Boolean()),
    policies: Type.Optional(PoliciesUpdate),
  },
  { additionalProperties: false },
);

/** Most definitions in one POST /v1/batch/define. */
export const MAX_BATCH_DEFINITIONS = 1024;

export const DefineManyBody = Type.Object(
  {
    definitions: Type.Array(DefineBody, { minItems: 1, maxItems: MAX_BATCH_DEFINITIONS, description: 'Each is defined as POST /v1/domains would; each succeeds or fails on its own' }),
  },
  { additionalProperties: false },
);

export const StartBody = Type.Object(
  {
    paused: Type.Optional(Type.Boolean({ description: 'Leave the guest paused (QEMU -S, no cont)' })),
    timeoutMs: Type.Optional(Type.Integer({ minimum: 1, maximum: 600_000 })),
  },
  { additionalProperties: false },
);

export const ShutdownBody = Type.Object(
  { timeoutMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 3_600_000, description: 'Wait for the guest to power off (default 60000)' })) },
  { additionalProperties: false },
);

export const DestroyBody = Type.Object(
  { graceMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 600_000, description: 'SIGTERM to SIGKILL delay (default 3000)' })) },
  { additionalProperties: false },
);

export const EmptyBody = Type.Object({}, { additionalProperties: false });

export const UpdateBody = Type.Object(
  { autostart: Type.Optional(Type.Boolean()), policies: Type.Optional(PoliciesUpdate) },
  { additionalProperties: false },
);

const State = Type.Union(
  ['shutoff', 'starting', 'running', 'paused', 'shutting-down', 'stopping', 'crashed', 'saved'].map((s) => Type.Literal(s)),
);

export const StopInfoSchema = Type.Object(
  {
    reason: Type.Union(['shutdown', 'destroyed', 'crashed', 'failed', 'saved', 'migrated'].map((s) => Type.Literal(s))),
    exitCode: Type.Union([Type.Integer(), Type.Null()]),
    signal: Type.Union([Type.String(), Type.Null()]),
    qemuReason: Type.Optional(Type.String()),
    requested: Type.Boolean(),
    stderrTail: Type.Array(Type.String()),
    message: Type.String(),
    at: Type.String({ format: 'date-time' }),
    unmonitored: Type.Optional(Type.Boolean()),
  },
);

export const DomainInfoSchema = Type.Object(
  {
    name: Type.String(),
    uuid: Type.String(),
    state: State,
    pausedReason: Type.Optional(Type.String()),
    autostart: Type.Boolean(),
    policies: Type.Object({ onPoweroff: Policy, onReboot: Policy, onCrash: Policy }),
    format: Type.String(),
    file: Type.Optional(Type.String()),
    pid: Type.Optional(Type.Integer()),
    startedAt: Type.Optional(Type.String()),
    uptimeMs: Type.Optional(Type.Integer()),
    vcpus: Type.Integer(),
    memoryMiB: Type.Integer(),
    machine: Type.String(),
    disks: Type.Array(Type.Object({ id: Type.String(), path: Type.String(), format: Type.String(), bus: Type.String(), media: Type.String(), readonly: Type.Boolean() })),
    nics: Type.Array(Type.Object({ id: Type.String(), kind: Type.String(), model: Type.String(), mac: Type.Optional(Type.String()), ifname: Type.Optional(Type.String()), bridge: Type.Optional(Type.String()), network: Type.Optional(Type.String()) })),
    console: Type.Optional(Type.Object({ socket: Type.Optional(Type.String()), log: Type.Optional(Type.String()) })),
    vnc: Type.Optional(Type.Object({ host: Type.String(), port: Type.Integer() })),
    lastStop: Type.Optional(StopInfoSchema),
    job: Type.Optional(Type.String()),
    hotplug: Type.Optional(Type.Object({ rootPorts: Type.Integer(), free: Type.Integer() })),
    seq: Type.Integer({ description: 'Connection-wide change counter at the last change of this domain' }),
  },
);

export const DomainListSchema = Type.Object({ seq: Type.Integer(), domains: Type.Array(DomainInfoSchema) }, {});

export const StopResultSchema = Type.Object({ stop: StopInfoSchema, domain: DomainInfoSchema }, {});

export const DefinitionSchema = Type.Object(
  { format: Type.String(), text: Type.String(), file: Type.Optional(Type.String()) },
);

export const LifecycleEventSchema = Type.Object(
  {
    type: Type.Union(['defined', 'undefined', 'started', 'suspended', 'resumed', 'rebooted', 'crashed', 'stopped', 'progress', 'device', 'snapshot'].map((s) => Type.Literal(s))),
    domain: Type.String(),
    uuid: Type.String(),
    state: State,
    time: Type.String(),
    seq: Type.Integer(),
    reason: Type.Optional(Type.String()),
    message: Type.Optional(Type.String()),
    pid: Type.Optional(Type.Integer()),
    stop: Type.Optional(StopInfoSchema),
    progress: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: 'progress: a save, restore or migration (op, status, bytes)' })),
    device: Type.Optional(Type.String()),
    snapshot: Type.Optional(Type.String()),
  },
);

export const ErrorSchema = Type.Object(
  {
    error: Type.Object({
      code: Type.String({ description: 'The library error code: InvalidConfig, InvalidArgument, NotFound, AlreadyExists, InvalidState, ...' }),
      message: Type.String(),
      details: Type.Record(Type.String(), Type.Unknown()),
    }),
  },
);

export const DefineManyResultSchema = Type.Object({
  results: Type.Array(Type.Union([Type.Object({ domain: DomainInfoSchema }), ErrorSchema]), { description: 'One per definition, in order: the domain, or the error its define gave' }),
});

export const DaemonStatusSchema = Type.Object(
  {
    pid: Type.Integer(),
    version: Type.String(),
    root: Type.String(),
    socket: Type.String(),
    uptimeMs: Type.Integer(),
    rssBytes: Type.Integer(),
    heapUsedBytes: Type.Integer(),
    domains: Type.Object({ defined: Type.Integer(), running: Type.Integer() }),
    clients: Type.Object({ connections: Type.Integer(), eventStreams: Type.Integer(), consoles: Type.Integer() }),
    eventLoopDelayMs: Type.Object(
      { p50: Type.Number(), p99: Type.Number(), max: Type.Number(), mean: Type.Number(), samples: Type.Integer(), since: Type.String() },
      { description: 'How late a 2 ms timer ran, since the daemon started or the last reset-stats' },
    ),
  },
);

export type DefineBodyT = Static<typeof DefineBody>;
export type DefineManyBodyT = Static<typeof DefineManyBody>;
export type StartBodyT = Static<typeof StartBody>;
export type ShutdownBodyT = Static<typeof ShutdownBody>;
export type DestroyBodyT = Static<typeof DestroyBody>;
export type UpdateBodyT = Static<typeof UpdateBody>;

const ajv = new Ajv(BODY_AJV_OPTIONS);
const compiled = new WeakMap<TSchema, ValidateFunction>();

/**
 * Validates a request body against its schema; throws InvalidArgument listing every problem. The bundle
 * replaces this module with one whose validators were generated at build time (scripts/gen-validators.ts).
 */
export function validateBody<T extends TSchema>(schema: T, body: unknown): Static<T> {
  let v = compiled.get(schema);
  if (v === undefined) {
    v = ajv.compile(schema);
    compiled.set(schema, v);
  }
  return checkBody(v, body) as Static<T>;
}

// ---- images and volumes (routes-storage.ts) ----
export { CustomizationBody, ImageBuildBody, ImageGetBody, VolumeCreateBody, VolumeResizeBody } from './storage-schemas.js';
