/**
 * A readable, unambiguous listing of an argv: one argument per line. An argument that would not survive that
 * (empty, containing a line break or other control character, leading or trailing blanks, or starting with a
 * double quote) is written as a JSON string, so a line starting with `"` is always JSON.
 */

const NEEDS_QUOTING = /^$|^"|^\s|\s$|[\u0000-\u001f\u007f]/;

export function describeArgv(argv: readonly string[]): string {
  return argv.map((a) => `${NEEDS_QUOTING.test(a) ? JSON.stringify(a) : a}\n`).join('');
}

/** The inverse of describeArgv. */
export function parseDescribedArgv(text: string): string[] {
  if (text === '') return [];
  const lines = (text.endsWith('\n') ? text.slice(0, -1) : text).split('\n');
  return lines.map((line) => (line.startsWith('"') ? (JSON.parse(line) as string) : line));
}
