/**
 * qemu-launcher definition files (https://github.com/filakhtov/qemu-launcher), read unchanged: a `launcher:`
 * section and a `qemu:` list of options. The `qemu:` items have a free-form shape and are checked by
 * qemu-options.ts. Pure.
 */
import { Type, type Static } from '@sinclair/typebox';
import { PATTERNS } from '../patterns.js';

const HostCpu = Type.Union(
  [Type.Integer({ minimum: 0, description: 'Host logical CPU.' }), Type.String({ minLength: 1, description: 'Host CPUs as a cpuset ("2,6").' })],
  { description: 'Host logical CPU number (or a cpuset string).' },
);

const Index = Type.String({ pattern: PATTERNS.index.source });

function record<T extends Parameters<typeof Type.Record>[1]>(value: T, description: string) {
  return Type.Record(Index, value, { additionalProperties: false, description });
}

const Account = Type.Union([
  Type.Integer({ minimum: 0, maximum: 4294967294, description: 'Numeric id.' }),
  Type.String({ pattern: PATTERNS.account.source, description: 'Name.' }),
], { description: 'A numeric id (or a name).' });

export const LauncherSection = Type.Object(
  {
    binary: Type.String({ minLength: 1, description: 'QEMU binary name or path.' }),
    clear_env: Type.Optional(Type.Boolean({ description: 'Do not pass the launcher\'s environment to QEMU.' })),
    env: Type.Optional(
      Type.Record(Type.String({ pattern: PATTERNS.envName.source }), Type.Union([Type.String(), Type.Number(), Type.Boolean()]), {
        additionalProperties: false,
        description: 'Extra environment variables for QEMU.',
      }),
    ),
    debug: Type.Optional(Type.Boolean({ description: 'Print the pinning plan.' })),
    user: Type.Optional(Account),
    group: Type.Optional(Account),
    priority: Type.Optional(Type.Integer({ minimum: 0, maximum: 99, description: 'chrt priority for the vCPU threads.' })),
    scheduler: Type.Optional(Type.Unsafe<'batch' | 'fifo' | 'idle' | 'other' | 'rr'>({
      type: 'string',
      enum: ['batch', 'fifo', 'idle', 'other', 'rr'],
      description: 'chrt policy for the vCPU threads (deadline is not supported).',
    })),
    vcpu_pinning: Type.Optional(record(record(record(HostCpu, 'thread -> host CPU.'), 'core -> threads.'), 'socket -> cores -> threads -> host CPU.')),
    rlimit_memlock: Type.Optional(
      Type.Union([Type.Boolean(), Type.Literal('unlimited'), Type.String({ minLength: 1 })], {
        description: 'true: unlimited locked memory for QEMU (or a size).',
      }),
    ),
  },
  { additionalProperties: false, description: 'qemu-launcher settings.' },
);

export const LauncherFile = Type.Object(
  {
    launcher: LauncherSection,
    qemu: Type.Array(Type.Unknown(), { description: 'QEMU command line options.' }),
  },
  { additionalProperties: false, description: 'A qemu-launcher definition.' },
);

export type LauncherFileT = Static<typeof LauncherFile>;
export type LauncherSectionT = Static<typeof LauncherSection>;
