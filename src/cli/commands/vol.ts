/** `vmkit vol create|overlay|resize|info|delete|list`: volumes of a root (`<root>/volumes`), through a connection. */
import { isAbsolute, resolve } from 'node:path';
import { parseSize } from '../../config/size.js';
import { VmkitError } from '../../errors.js';
import { humanSize } from '../../images/list-format.js';
import type { BackingRef, VolumeInfo } from '../../images/types.js';
import { emit, table, withConnection, type ConnectFlags } from './remote.js';

function describe(v: VolumeInfo): string {
  return [
    `Name:          ${v.name}`,
    `Format:        ${v.format}`,
    `Path:          ${v.path}`,
    `Virtual size:  ${humanSize(v.virtualSize)} (${v.virtualSize} bytes)`,
    ...(v.actualSize === undefined ? [] : [`Disk usage:    ${humanSize(v.actualSize)}`]),
    ...(v.backingFile === undefined ? [] : [`Backing file:  ${v.backingFile} (${v.backingFormat ?? '?'})`]),
  ].join('\n');
}

export function volCreateCommand(name: string, flags: ConnectFlags & { size?: string; format?: string }): Promise<number> {
  return withConnection(flags, async (conn) => {
    if (flags.size === undefined) throw new VmkitError('InvalidArgument', '--size is required (e.g. --size 10G)');
    if (flags.format !== undefined && flags.format !== 'raw' && flags.format !== 'qcow2') throw new VmkitError('InvalidArgument', `--format must be raw or qcow2, got ${JSON.stringify(flags.format)}`);
    const v = await conn.volumes.create(name, { size: parseSize(flags.size), ...(flags.format === undefined ? {} : { format: flags.format as 'raw' | 'qcow2' }) });
    emit(flags, v, describe(v));
  });
}

/** `--backing`: a template id, `volume:NAME`, or a file (`--backing-format` then says its format). */
export function backingRef(value: string, format: string | undefined, arch: string | undefined): BackingRef {
  if (value.startsWith('volume:')) return { volume: value.slice('volume:'.length) };
  if (value.includes('/')) {
    if (format === undefined) throw new VmkitError('InvalidArgument', `--backing ${value} is a file: say its format with --backing-format raw|qcow2 (vmkit never probes one)`);
    return { path: isAbsolute(value) ? value : resolve(value), format };
  }
  return { image: value, ...(arch === undefined ? {} : { arch }) };
}

export function volOverlayCommand(name: string, flags: ConnectFlags & { backing?: string; backingFormat?: string; size?: string; arch?: string }): Promise<number> {
  return withConnection(flags, async (conn) => {
    if (flags.backing === undefined) throw new VmkitError('InvalidArgument', '--backing is required: a template (debian-12), volume:NAME, or a file with --backing-format');
    const v = await conn.volumes.overlay(name, { backing: backingRef(flags.backing, flags.backingFormat, flags.arch), ...(flags.size === undefined ? {} : { size: parseSize(flags.size) }) });
    emit(flags, v, describe(v));
  });
}

export function volResizeCommand(name: string, size: string, flags: ConnectFlags & { shrink?: boolean }): Promise<number> {
  return withConnection(flags, async (conn) => {
    const v = await conn.volumes.resize(name, { size: parseSize(size), ...(flags.shrink === true ? { shrink: true } : {}) });
    emit(flags, v, describe(v));
  });
}

export function volInfoCommand(name: string, flags: ConnectFlags): Promise<number> {
  return withConnection(flags, async (conn) => {
    const v = await conn.volumes.info(name);
    emit(flags, v, describe(v));
  });
}

export function volDeleteCommand(name: string, flags: ConnectFlags): Promise<number> {
  return withConnection(flags, async (conn) => {
    await conn.volumes.delete(name);
    emit(flags, { name, deleted: true }, `Volume '${name}' deleted`);
  });
}

export function volListCommand(flags: ConnectFlags): Promise<number> {
  return withConnection(flags, async (conn) => {
    const list = await conn.volumes.list();
    emit(flags, list, table(['Name', 'Format', 'Size', 'Used', 'Backing'], list.map((v) => [v.name, v.format, humanSize(v.virtualSize), v.actualSize === undefined ? '-' : humanSize(v.actualSize), v.backingFile ?? '-'])));
  });
}
