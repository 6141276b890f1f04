/** The OpenAPI 3.1 description the daemon serves at GET /openapi.json, built from the request schemas. */
import type { TSchema } from '@sinclair/typebox';
import {
  DaemonStatusSchema,
  DefineBody,
  DefineManyBody,
  DefineManyResultSchema,
  DefinitionSchema,
  DestroyBody,
  DomainInfoSchema,
  DomainListSchema,
  EmptyBody,
  ErrorSchema,
  LifecycleEventSchema,
  ShutdownBody,
  StartBody,
  StopResultSchema,
  UpdateBody,
} from './schemas.js';

/** Component names of the schemas (the schemas themselves carry no $id: they are also nested). */
const NAMES = new Map<TSchema, string>([
  [DefineBody, 'DefineBody'],
  [DefineManyBody, 'DefineManyBody'],
  [DefineManyResultSchema, 'DefineManyResult'],
  [StartBody, 'StartBody'],
  [ShutdownBody, 'ShutdownBody'],
  [DestroyBody, 'DestroyBody'],
  [EmptyBody, 'EmptyBody'],
  [UpdateBody, 'UpdateBody'],
  [DomainInfoSchema, 'DomainInfo'],
  [DomainListSchema, 'DomainList'],
  [StopResultSchema, 'StopResult'],
  [DefinitionSchema, 'Definition'],
  [LifecycleEventSchema, 'LifecycleEvent'],
  [ErrorSchema, 'Error'],
  [DaemonStatusSchema, 'DaemonStatus'],
]);

const ref = (s: TSchema): { $ref: string } => ({ $ref: `#/components/schemas/${NAMES.get(s) ?? 'unknown'}` });
const json = (s: TSchema): object => ({ content: { 'application/json': { schema: ref(s) } } });
const errors = {
  '400': { description: 'Invalid request (InvalidArgument)', ...json(ErrorSchema) },
  '404': { description: 'No such domain (NotFound)', ...json(ErrorSchema) },
  '409': { description: 'Wrong state or conflict (InvalidState, AlreadyExists)', ...json(ErrorSchema) },
  default: { description: 'Other errors, with the library error code', ...json(ErrorSchema) },
};
const idParam = { name: 'id', in: 'path', required: true, description: 'Domain name or UUID', schema: { type: 'string' } };

function op(summary: string, body: TSchema | undefined, ok: [string, TSchema | undefined], extra: object = {}): object {
  return {
    summary,
    ...(body === undefined ? {} : { requestBody: { required: false, ...json(body) } }),
    responses: { [ok[0]]: { description: 'OK', ...(ok[1] === undefined ? {} : json(ok[1])) }, ...errors },
    ...extra,
  };
}

let doc: object | undefined;

export function openApiDocument(version: string): object {
  doc ??= {
    openapi: '3.1.0',
    info: {
      title: 'vmkit daemon API',
      version,
      description:
        'The vmkit Connection API over HTTP/JSON on a unix socket. Errors carry the library error codes. Lifecycle operations other than destroy run one at a time per domain.',
    },
    paths: {
      '/openapi.json': { get: { summary: 'This document', responses: { '200': { description: 'OK' } } } },
      '/v1/daemon': { get: op('Daemon status: memory, event-loop delay, counts', undefined, ['200', DaemonStatusSchema]) },
      '/v1/daemon/reset-stats': { post: op('Restart the event-loop delay histogram', EmptyBody, ['200', DaemonStatusSchema]) },
      '/v1/domains': {
        get: op('List domains (a snapshot with its sequence number)', undefined, ['200', DomainListSchema]),
        post: op('Define (or redefine) a domain from its definition text', DefineBody, ['201', DomainInfoSchema]),
      },
      '/v1/batch/define': {
        post: op('Define many domains in one request; each definition succeeds or fails on its own', DefineManyBody, ['200', DefineManyResultSchema]),
      },
      '/v1/domains/{id}': {
        parameters: [idParam],
        get: op('Show a domain', undefined, ['200', DomainInfoSchema]),
        patch: op('Change autostart or lifecycle policies', UpdateBody, ['200', DomainInfoSchema]),
        delete: op('Undefine a shut-off domain; answers its name, uuid and the sequence number of the removal', undefined, ['200', undefined]),
      },
      '/v1/domains/{id}/definition': { parameters: [idParam], get: op('The definition in its native format', undefined, ['200', DefinitionSchema]) },
      '/v1/domains/{id}/start': { parameters: [idParam], post: op('Start (allowed in: shutoff)', StartBody, ['200', DomainInfoSchema]) },
      '/v1/domains/{id}/shutdown': {
        parameters: [idParam],
        post: op('ACPI power-off, waiting up to timeoutMs (allowed in: running, paused, shutting-down)', ShutdownBody, ['200', StopResultSchema]),
      },
      '/v1/domains/{id}/destroy': { parameters: [idParam], post: op('Stop QEMU now; does not queue behind other jobs', DestroyBody, ['200', StopResultSchema]) },
      '/v1/domains/{id}/reboot': { parameters: [idParam], post: op('Reset the guest (allowed in: running, paused)', EmptyBody, ['200', DomainInfoSchema]) },
      '/v1/domains/{id}/suspend': { parameters: [idParam], post: op('Pause the vCPUs (allowed in: running)', EmptyBody, ['200', DomainInfoSchema]) },
      '/v1/domains/{id}/resume': { parameters: [idParam], post: op('Resume the vCPUs (allowed in: paused)', EmptyBody, ['200', DomainInfoSchema]) },
      '/v1/domains/{id}/console': {
        parameters: [idParam],
        get: {
          summary: 'Serial console: send `Connection: Upgrade` and `Upgrade: vmkit-console`; after 101 the socket carries the raw console bytes both ways',
          responses: { '101': { description: 'Switching protocols' }, ...errors },
        },
      },
      '/metrics': {
        get: { summary: 'Prometheus text exposition (format 0.0.4): per-domain state, vCPU seconds, memory, disk and NIC counters, start/stop and API latency histograms, event-loop delay', responses: { '200': { description: 'OK', content: { 'text/plain': { schema: { type: 'string' } } } } } },
      },
      '/v1/stats': {
        get: { summary: 'One stats sample (as GET /v1/domains/{id}/stats) of every domain whose QEMU runs: {"domains":[DomainStats...]}', responses: { '200': { description: 'OK', content: { 'application/json': { schema: { type: 'object' } } } }, ...errors } },
      },
      '/v1/domains/{id}/stats': {
        parameters: [idParam],
        get: {
          summary: 'DomainStats: per-vCPU thread time and wait, QEMU CPU time and RSS, balloon, per-disk and per-NIC counters (one QMP round trip)',
          responses: { '200': { description: 'OK', content: { 'application/json': { schema: { type: 'object' } } } }, ...errors },
        },
      },
      '/v1/events': {
        get: {
          summary: 'Lifecycle events as NDJSON, one LifecycleEvent per line; the first line is {"type":"snapshot","seq":N,"domains":[DomainInfo...]}',
          parameters: [{ name: 'domain', in: 'query', required: false, schema: { type: 'string' }, description: 'Only this domain (name)' }],
          responses: { '200': { description: 'A stream that stays open', content: { 'application/x-ndjson': { schema: ref(LifecycleEventSchema) } } } },
        },
      },
    },
    components: {
      schemas: Object.fromEntries([...NAMES].map(([schema, name]) => [name, JSON.parse(JSON.stringify(schema)) as object])),
    },
  };
  return doc;
}
