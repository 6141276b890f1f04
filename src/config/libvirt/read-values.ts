/** Small typed readers for XML values (integers, yes/no, sizes, cpusets) that report their own problems. Pure. */
import { isVmkitError } from '../../errors.js';
import { parseCpuSet } from '../../util/cpu-set.js';
import { scaledBytes, UNIT_TEXT } from './units.js';
import type { XmlAt, XmlContext } from './xml-context.js';
import type { XmlElement } from './xml-tree.js';

/** A whole number from `min` to `max`, or undefined (reported). */
export function readInt(ctx: XmlContext, at: XmlAt, value: string, range: { min?: number; max?: number } = {}): number | undefined {
  const v = value.trim();
  const min = range.min ?? 0;
  const max = range.max ?? Number.MAX_SAFE_INTEGER;
  const expected = `a whole number from ${min} to ${max}`;
  if (!/^\d+$/.test(v) || !Number.isSafeInteger(Number(v))) {
    ctx.error(at, 'Not a whole number', { expected, found: JSON.stringify(value) });
    return undefined;
  }
  const n = Number(v);
  if (n < min || n > max) {
    ctx.error(at, 'Out of range', { expected, found: v });
    return undefined;
  }
  return n;
}

/** An integer attribute, or undefined when absent or invalid (reported). */
export function intAttr(ctx: XmlContext, el: XmlElement, name: string, range: { min?: number; max?: number } = {}): number | undefined {
  const v = ctx.attr(el, name);
  return v === undefined ? undefined : readInt(ctx, { el, attr: name }, v, range);
}

/** A libvirt enumerated attribute: one of `values`, or undefined (absent, or reported). */
export function enumAttr<const V extends string>(ctx: XmlContext, el: XmlElement, name: string, values: readonly V[]): V | undefined {
  const v = ctx.attr(el, name);
  if (v === undefined) return undefined;
  if ((values as readonly string[]).includes(v)) return v as V;
  ctx.error({ el, attr: name }, `Unknown value for ${name}`, { expected: values.map((x) => `'${x}'`).join(', '), found: JSON.stringify(v) });
  return undefined;
}

/** `yes`/`no` (libvirt also writes `on`/`off` for some switches). */
export function yesNoAttr(ctx: XmlContext, el: XmlElement, name: string): boolean | undefined {
  const v = enumAttr(ctx, el, name, ['yes', 'no', 'on', 'off']);
  return v === undefined ? undefined : v === 'yes' || v === 'on';
}

/** A scaled size in bytes: text (or the attribute `valueAttr`) with the unit in `unit=` (default `defaultUnit`). */
export function readBytes(ctx: XmlContext, el: XmlElement, opts: { defaultUnit: string; valueAttr?: string; unitAttr?: string }): number | undefined {
  const unitAttr = opts.unitAttr ?? 'unit';
  const unit = ctx.attr(el, unitAttr);
  const valueAt: XmlAt = opts.valueAttr === undefined ? { el, text: true } : { el, attr: opts.valueAttr };
  const value = opts.valueAttr === undefined ? ctx.text(el) : ctx.attr(el, opts.valueAttr);
  if (value === undefined) {
    ctx.error(valueAt, `<${el.name}> needs a ${opts.valueAttr ?? 'size'}`, { expected: 'a whole number' });
    return undefined;
  }
  const r = scaledBytes(value, unit, opts.defaultUnit);
  if ('bytes' in r) {
    if (r.bytes === 0) {
      ctx.error(valueAt, 'A size of 0 is not allowed here', { expected: 'a whole number greater than 0', found: JSON.stringify(value) });
      return undefined;
    }
    return r.bytes;
  }
  if (r.error === 'unit') {
    ctx.error({ el, attr: unitAttr }, 'Unknown size unit', { expected: UNIT_TEXT, found: JSON.stringify(unit) });
  } else if (r.error === 'value') {
    ctx.error(valueAt, `A size is a whole number (in ${unit ?? opts.defaultUnit}; put the unit in ${unitAttr}='...')`, {
      expected: 'a whole number like 1048576',
      found: JSON.stringify(value),
    });
  } else {
    ctx.error(valueAt, 'The size is too large', { found: `${value} ${unit ?? opts.defaultUnit}` });
  }
  return undefined;
}

/** A cpuset attribute parsed, or undefined (absent, or reported). */
export function cpuSetAttr(ctx: XmlContext, el: XmlElement, name: string): number[] | undefined {
  const v = ctx.attr(el, name);
  if (v === undefined) return undefined;
  try {
    return parseCpuSet(v);
  } catch (e) {
    if (!isVmkitError(e)) throw e;
    ctx.error({ el, attr: name }, e.message.replace(/^Cannot parse CPU set "[^"]*": /, 'Invalid cpuset: '), {
      expected: 'CPU numbers and ranges like "0-3,^2,6"',
      found: JSON.stringify(v),
    });
    return undefined;
  }
}

/** Requires an attribute; reports it missing at the element. */
export function requireAttr(ctx: XmlContext, el: XmlElement, name: string, expected: string): string | undefined {
  const v = ctx.attr(el, name);
  if (v === undefined) ctx.error({ el, attr: name }, `<${el.name}> needs the attribute ${name}`, { expected });
  return v;
}
