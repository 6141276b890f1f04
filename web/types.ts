/** The shapes the dashboard reads from the daemon (a subset of DomainInfo and DomainStats). */
export interface DomainView {
  readonly name: string;
  readonly state: string;
  readonly vcpus: number;
  readonly memoryMiB: number;
  readonly vnc?: { readonly host: string; readonly port: number };
}

export interface StatsView {
  readonly name: string;
  readonly pid: number;
  readonly sampledAtMs: number;
  readonly cpu: { readonly userSeconds: number; readonly systemSeconds: number };
  readonly vcpus: readonly { readonly index: number; readonly seconds: number }[];
  readonly disks: readonly { readonly id: string; readonly readBytes: number; readonly writeBytes: number }[];
  readonly nics: readonly { readonly id: string; readonly counters?: { readonly rxBytes: number; readonly txBytes: number } }[];
}

export interface FeedUpdate {
  readonly type: 'domains';
  readonly domains: readonly DomainView[];
  readonly removed: readonly string[];
}
