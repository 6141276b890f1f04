/**
 * `conn.images` and `conn.volumes`: the same interfaces embedded and through a daemon. Plain data in and
 * out (they cross the daemon's HTTP/JSON boundary), progress as events.
 */
import type { Problem } from '../errors.js';
import type { Customization } from '../storage/cloud-init.js';
import type { CachedImage } from './cache.js';
import type { IndexEntry, TemplateNotes } from './index-file.js';
import type { ListedSource } from './list-format.js';
import type { Progress } from './transfer.js';

export type { CachedImage } from './cache.js';
export type { Customization, SeedFile } from '../storage/cloud-init.js';
export type { IndexEntry, TemplateNotes } from './index-file.js';
export type { ListedSource } from './list-format.js';
export type { Progress } from './transfer.js';

/** A template of a repository's index. */
export interface CatalogEntry extends IndexEntry {
  /** The repository (its section name in the .conf file). */
  readonly repo: string;
}

export interface ImageCatalog {
  readonly sources: readonly ListedSource[];
  /** Every template (hidden ones too), duplicates removed as virt-builder does (highest revision). */
  readonly templates: readonly CatalogEntry[];
  /** Repository configuration that vmkit skipped, with why. */
  readonly warnings: readonly Problem[];
}

export interface RepoOptions {
  /** Accept unsigned indexes and skip signature checks (templates are still checked against their SHA-512). */
  readonly noCheckSignature?: boolean;
  readonly signal?: AbortSignal;
}

export interface GetOptions extends RepoOptions {
  /** Default: this host's architecture. */
  readonly arch?: string;
  readonly onProgress?: (p: Progress) => void;
}

/** Where `image build` writes: a file (callers with uid 0 only, over a daemon) or a volume of the root. */
export type BuildOutput = { readonly path: string } | { readonly volume: string };

export interface BuildOptions extends GetOptions {
  readonly output: BuildOutput;
  /** `raw` (default): a standalone copy. `qcow2`: an overlay on the cached template, unless `standalone`. */
  readonly format?: 'raw' | 'qcow2';
  readonly standalone?: boolean;
  /** Virtual size in bytes; default and minimum: the template's. */
  readonly size?: number;
  readonly customize?: Customization;
  /** Set by the daemon from the client's credentials (never from a request). */
  readonly caller?: { readonly uid: number };
}

export interface BuildResult {
  readonly image: CachedImage;
  /** The disk written. */
  readonly output: string;
  readonly format: 'raw' | 'qcow2';
  readonly size: number;
  /** Set when the output is a volume. */
  readonly volume?: string;
  /** The cloud-init seed (a raw FAT image labelled cidata), when there were customizations. */
  readonly seed?: string;
  readonly seedVolume?: string;
  /** The root password that `--root-password random` chose. */
  readonly rootPassword?: string;
}

export interface ImagesApi {
  /** Every repository's index, checked and merged. */
  list(opts?: RepoOptions): Promise<ImageCatalog>;
  /** A template's notes in every language it has (callers pick theirs: list-format.ts pickNotes). */
  notes(id: string, opts?: RepoOptions & { readonly arch?: string }): Promise<{ readonly id: string; readonly arch: string; readonly notes: readonly TemplateNotes[] }>;
  /** Downloads a template into the cache (verified, decompressed), or finds it there. */
  get(id: string, opts?: GetOptions): Promise<CachedImage>;
  /** The templates in the cache. */
  cached(): Promise<CachedImage[]>;
  /** A disk from a template, with an optional cloud-init seed carrying the customizations. */
  build(id: string, opts: BuildOptions): Promise<BuildResult>;
}

export type VolumeFormat = 'raw' | 'qcow2';

export interface VolumeInfo {
  readonly name: string;
  readonly format: VolumeFormat;
  readonly path: string;
  readonly virtualSize: number;
  readonly actualSize?: number;
  readonly backingFile?: string;
  readonly backingFormat?: string;
}

/** What an overlay is based on: a cached template, another volume, or (callers with uid 0) an image file. */
export type BackingRef =
  | { readonly image: string; readonly arch?: string }
  | { readonly volume: string }
  | { readonly path: string; readonly format: string };

export interface VolumeCaller {
  /** Set by the daemon from the client's credentials (never from a request). */
  readonly caller?: { readonly uid: number };
}

export interface VolumesApi {
  list(): Promise<VolumeInfo[]>;
  info(name: string): Promise<VolumeInfo>;
  create(name: string, opts: { readonly size: number; readonly format?: VolumeFormat }): Promise<VolumeInfo>;
  /** A qcow2 volume on a backing image with its format stated (instant: no data is copied). */
  overlay(name: string, opts: { readonly backing: BackingRef; readonly size?: number } & VolumeCaller): Promise<VolumeInfo>;
  resize(name: string, opts: { readonly size: number; readonly shrink?: boolean }): Promise<VolumeInfo>;
  delete(name: string): Promise<void>;
}
