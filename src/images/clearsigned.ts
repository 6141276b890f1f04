/**
 * OpenPGP clearsigned text (RFC 4880 section 7), the form of virt-builder's `index.asc`: the cleartext part
 * taken out exactly as written (dash-escaping undone, trailing blanks kept: a line of one space is a blank
 * line of a multi-line value), and put together again around a signature. Pure.
 */

export const BEGIN_SIGNED = '-----BEGIN PGP SIGNED MESSAGE-----';
export const BEGIN_SIGNATURE = '-----BEGIN PGP SIGNATURE-----';

/** True when `text` is a clearsigned message. */
export function isClearsigned(text: string): boolean {
  return text.replace(/^\uFEFF/, '').startsWith(BEGIN_SIGNED);
}

/**
 * The cleartext of a clearsigned message as it is written in the file; undefined when the armour is not
 * well formed (no header end, no signature block).
 */
export function clearsignedBody(text: string): string | undefined {
  const lines = text.replace(/^\uFEFF/, '').split('\n').map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
  if (lines[0] !== BEGIN_SIGNED) return undefined;
  let i = 1;
  while (i < lines.length && lines[i] !== '') i++; // armour headers (Hash: ...) end at the first empty line
  if (i >= lines.length) return undefined;
  const start = i + 1;
  const end = lines.indexOf(BEGIN_SIGNATURE, start);
  if (end < 0) return undefined;
  // The line break before the signature block belongs to the armour, not to the text.
  return lines
    .slice(start, end)
    .map((l) => (l.startsWith('- ') ? l.slice(2) : l))
    .join('\n');
}

/** Text without trailing blanks on any line and with \n line ends: what a cleartext signature covers. */
export function canonicalText(text: string): string {
  return text
    .split('\n')
    .map((l) => l.replace(/[ \t\r]+$/, ''))
    .join('\n');
}

/** A clearsigned message of `text` (written as it is, dash-escaped) and an armoured signature block. */
export function assembleClearsigned(text: string, hash: string, signatureBlock: string): string {
  const body = text
    .split('\n')
    .map((l) => (l.startsWith('-') ? `- ${l}` : l))
    .join('\n');
  const block = signatureBlock.slice(signatureBlock.indexOf(BEGIN_SIGNATURE)).replace(/\r\n/g, '\n');
  return `${BEGIN_SIGNED}\nHash: ${hash}\n\n${body}\n${block.endsWith('\n') ? block : `${block}\n`}`;
}
