/**
 * QemuOpts text: `head,key=value,key=value`. QEMU splits options at every single comma, and a doubled comma
 * (`,,`) stands for one literal comma inside a value. Every value vmkit writes into a QemuOpts argument goes
 * through here, so user data (a disk path like `a,file=/etc/shadow`) can never start a new option.
 */

import { VmkitError } from '../errors.js';

export type OptValue = string | number | boolean | undefined;
export type OptEntry = readonly [key: string, value: OptValue];

const KEY_PATTERN = /^[A-Za-z][A-Za-z0-9._-]*$/;

/** Doubles every comma so QEMU reads `v` back as one value. */
export function escapeOptValue(v: string): string {
  return v.replaceAll(',', ',,');
}

/**
 * Formats `head,key=value,...`: values escaped, `undefined` entries skipped, booleans as `on`/`off`.
 * Keys may repeat (`cpus=0-1,cpus=4`). `head` (the implied first option, e.g. a device driver) is escaped too;
 * `undefined` means no head.
 */
export function formatOpts(head: string | undefined, entries: readonly OptEntry[]): string {
  const parts: string[] = [];
  if (head !== undefined) parts.push(formatHead(head));
  for (const [key, value] of entries) {
    if (value === undefined) continue;
    if (!KEY_PATTERN.test(key)) {
      throw new VmkitError('Internal', `Cannot format QEMU option key "${key}": keys are fixed names like "node-name"`);
    }
    parts.push(`${key}=${escapeOptValue(formatValue(key, value))}`);
  }
  return parts.join(',');
}

function formatHead(head: string): string {
  // QEMU reads a first part with "=" before any comma as `key=value`, not as the implied head.
  const firstStop = head.search(/[=,]/);
  if (head === '' || (firstStop >= 0 && head[firstStop] === '=')) {
    throw new VmkitError(
      'InvalidArgument',
      `Cannot use "${head}" as the first part of a QEMU option: it must be a non-empty name without "=" (e.g. "q35", "virtio-blk-pci")`,
      { details: { head } },
    );
  }
  checkNoNul('option head', head);
  return escapeOptValue(head);
}

function formatValue(key: string, value: string | number | boolean): string {
  if (typeof value === 'boolean') return value ? 'on' : 'off';
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) {
      throw new VmkitError('InvalidArgument', `Cannot pass ${value} as QEMU option "${key}": expected a whole number`, {
        details: { key, value },
      });
    }
    return String(value);
  }
  checkNoNul(`option "${key}"`, value);
  return value;
}

function checkNoNul(what: string, value: string): void {
  if (value.includes('\0')) {
    throw new VmkitError('InvalidArgument', `Cannot pass a NUL character in QEMU ${what}: remove it from ${JSON.stringify(value)}`, {
      details: { value },
    });
  }
}

/**
 * Parses QemuOpts text the way QEMU does: parts split at single commas, `,,` is a literal comma, a first part
 * without `=` is the value of `impliedKey`. A later part without `=` is a flag and comes back with value
 * `undefined`. Used to merge a user-written option (a qemu-launcher `name:`) with vmkit's own keys.
 */
export function parseOpts(text: string, impliedKey: string): [key: string, value: string | undefined][] {
  const out: [string, string | undefined][] = [];
  let i = 0;
  while (i < text.length) {
    const stop = indexOfAny(text, i, '=,');
    if (text[stop] === '=') {
      const [value, next] = readValue(text, stop + 1);
      out.push([text.slice(i, stop), value]);
      i = next;
    } else if (i === 0) {
      const [value, next] = readValue(text, 0);
      out.push([impliedKey, value]);
      i = next;
    } else {
      out.push([text.slice(i, stop), undefined]);
      i = stop + 1;
    }
  }
  return out;
}

function indexOfAny(text: string, from: number, chars: string): number {
  for (let i = from; i < text.length; i++) if (chars.includes(text[i] as string)) return i;
  return text.length;
}

/** Reads a value up to the next single comma; returns it unescaped and the index after that comma. */
function readValue(text: string, from: number): [string, number] {
  let value = '';
  let i = from;
  while (i < text.length) {
    const c = text[i] as string;
    if (c === ',') {
      if (text[i + 1] === ',') {
        value += ',';
        i += 2;
        continue;
      }
      return [value, i + 1];
    }
    value += c;
    i++;
  }
  return [value, text.length + 1];
}
