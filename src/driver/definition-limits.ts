/** Limits of a definition, in a module of their own: the API client and schemas need them without the parsers. */

/** Largest definition accepted (a definition is a few KiB). */
export const MAX_DEFINITION_BYTES = 4 * 1024 * 1024;
