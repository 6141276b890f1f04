/**
 * Request bodies of the daemon's image and volume endpoints (routes-storage.ts). Re-exported by schemas.ts,
 * whose `...Body` exports get validators generated at build time; import them from there.
 */
import { Type } from '@sinclair/typebox';

const SIZE = Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER, description: 'Bytes' });
const NAME = Type.String({ pattern: '^[A-Za-z0-9_+-][A-Za-z0-9_.+-]{0,63}$', description: 'A volume name' });
const ARCH = Type.String({ pattern: '^[A-Za-z0-9_]{1,32}$' });
const LINES = (what: string) => Type.Array(Type.String({ maxLength: 65536 }), { maxItems: 256, description: what });

export const ImageGetBody = Type.Object(
  {
    arch: Type.Optional(ARCH),
    noCheckSignature: Type.Optional(Type.Boolean({ description: 'Accept unsigned indexes (templates are still checked by SHA-512)' })),
  },
  { additionalProperties: false },
);

export const CustomizationBody = Type.Object(
  {
    hostname: Type.Optional(Type.String({ maxLength: 253 })),
    rootPassword: Type.Optional(Type.String({ minLength: 1, maxLength: 1024 })),
    randomRootPassword: Type.Optional(Type.Boolean({ description: 'Choose a random root password (returned in the result)' })),
    sshKeys: Type.Optional(Type.Array(Type.Object({ user: Type.String({ maxLength: 32 }), keys: LINES('OpenSSH public key lines') }, { additionalProperties: false }), { maxItems: 64 })),
    install: Type.Optional(LINES('Packages')),
    runCommands: Type.Optional(LINES('Commands run early in the first boot (cloud-init bootcmd, once)')),
    firstbootCommands: Type.Optional(LINES('Commands run late in the first boot (cloud-init runcmd)')),
    files: Type.Optional(
      Type.Array(
        Type.Object({ path: Type.String({ minLength: 1, maxLength: 4096 }), base64: Type.String({ maxLength: 8 * 1024 * 1024 }), mode: Type.Optional(Type.String({ pattern: '^0?[0-7]{3,4}$' })) }, { additionalProperties: false }),
        { maxItems: 256 },
      ),
    ),
    timezone: Type.Optional(Type.String({ maxLength: 64 })),
  },
  { additionalProperties: false },
);

export const ImageBuildBody = Type.Object(
  {
    arch: Type.Optional(ARCH),
    noCheckSignature: Type.Optional(Type.Boolean()),
    output: Type.Union([Type.Object({ volume: NAME }, { additionalProperties: false }), Type.Object({ path: Type.String({ minLength: 1, maxLength: 4096, description: 'An absolute path: clients with uid 0 only' }) }, { additionalProperties: false })]),
    format: Type.Optional(Type.Union([Type.Literal('raw'), Type.Literal('qcow2')])),
    standalone: Type.Optional(Type.Boolean()),
    size: Type.Optional(SIZE),
    customize: Type.Optional(CustomizationBody),
  },
  { additionalProperties: false },
);

export const VolumeCreateBody = Type.Object(
  {
    name: NAME,
    size: Type.Optional(SIZE),
    format: Type.Optional(Type.Union([Type.Literal('raw'), Type.Literal('qcow2')])),
    backing: Type.Optional(
      Type.Union([
        Type.Object({ image: Type.String({ pattern: '^[-A-Za-z0-9._]{1,128}$' }), arch: Type.Optional(ARCH) }, { additionalProperties: false }),
        Type.Object({ volume: NAME }, { additionalProperties: false }),
        Type.Object({ path: Type.String({ minLength: 1, maxLength: 4096 }), format: Type.String({ pattern: '^[a-z0-9]{1,16}$' }) }, { additionalProperties: false }),
      ], { description: 'Makes a qcow2 overlay on it (a path: clients with uid 0 only)' }),
    ),
  },
  { additionalProperties: false },
);

export const VolumeResizeBody = Type.Object({ size: SIZE, shrink: Type.Optional(Type.Boolean()) }, { additionalProperties: false });
