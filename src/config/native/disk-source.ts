/** Shared text of the native format's disk source rules (path + format, volume, image). Pure. */

/** Why a path disk needs `format` (the schema's hint and the resolver's problem say the same). */
export const NATIVE_DISK_FORMAT_HINT =
  'vmkit never guesses an image format (probing lets a guest turn a raw image into a qcow2 that points at host files); set raw, qcow2, ...';
