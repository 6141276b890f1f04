/** QEMU's `key=value,flag,...` option syntax, where `,,` is a literal comma. Pure. */

/** Splits on single commas; `,,` stays a literal comma inside the part. */
export function splitQemuOpts(value: string): string[] {
  const parts: string[] = [];
  let cur = '';
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (c === ',') {
      if (value[i + 1] === ',') {
        cur += ',';
        i++;
      } else {
        parts.push(cur);
        cur = '';
      }
    } else {
      cur += c;
    }
  }
  parts.push(cur);
  return parts;
}

/**
 * Parses an option value into properties (later ones win). A first part without `=` is the value of
 * `impliedKey` (`-smp 4` -> cpus=4); other bare parts are booleans set to `on`.
 */
export function parseQemuOpts(value: string, impliedKey?: string): Map<string, string> {
  const props = new Map<string, string>();
  splitQemuOpts(value).forEach((part, i) => {
    const eq = part.indexOf('=');
    if (eq >= 0) props.set(part.slice(0, eq), part.slice(eq + 1));
    else if (i === 0 && impliedKey !== undefined) props.set(impliedKey, part);
    else if (part !== '') props.set(part, 'on');
  });
  return props;
}

/** Doubles commas so a value can sit inside QEMU option syntax. */
export function escapeOptValue(value: string): string {
  return value.replace(/,/g, ',,');
}

/** True when `s` ends with a separating comma (an odd number of trailing commas; `,,` is an escaped one). */
export function endsWithSeparator(s: string): boolean {
  const m = /,+$/.exec(s);
  return m !== null && m[0].length % 2 === 1;
}

/** Joins option fragments with `,`, without doubling a separator that a fragment already ends with. */
export function joinFragments(fragments: readonly string[]): string {
  let out = '';
  fragments.forEach((f, i) => {
    out = i === 0 || endsWithSeparator(out) ? out + f : `${out},${f}`;
  });
  return out;
}
