/**
 * The vmkit dashboard: domains with live state (the /ws/events feed), lifecycle buttons, charts of the
 * selected domain's rates (its statistics every 2 s), its serial console and its VNC display.
 */
import '@xterm/xterm/css/xterm.css';
import './style.css';
import { formatShort, LineChart } from './chart.js';
import { ConsoleView, type KeyboardRole } from './console-view.js';
import type { DomainView, FeedUpdate, StatsView } from './types.js';

const ACTIONS: readonly { readonly action: string; readonly label: string; readonly when: readonly string[] }[] = [
  { action: 'start', label: 'Start', when: ['shutoff'] },
  { action: 'shutdown', label: 'Shut down', when: ['running', 'paused'] },
  { action: 'reboot', label: 'Reboot', when: ['running', 'paused'] },
  { action: 'destroy', label: 'Destroy', when: ['starting', 'running', 'paused', 'shutting-down', 'stopping', 'crashed'] },
];

const domains = new Map<string, DomainView>();
const cpuText = new Map<string, string>();
let selected: string | undefined;
let lastStats: StatsView | undefined;
let consoleView: ConsoleView | undefined;
let vnc: { disconnect(): void } | undefined;

const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;
const charts = {
  cpu: new LineChart($<HTMLCanvasElement>('chart-cpu'), ['#1a4fb3']),
  disk: new LineChart($<HTMLCanvasElement>('chart-disk'), ['#2a9d4b', '#c0392b']),
  net: new LineChart($<HTMLCanvasElement>('chart-net'), ['#2a9d4b', '#c0392b']),
};

function showError(message: string | undefined): void {
  const el = $('error');
  el.hidden = message === undefined;
  el.textContent = message ?? '';
}

function connectEvents(): void {
  const link = $('link');
  const ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws/events`);
  ws.onopen = () => {
    link.textContent = 'live';
    link.dataset['link'] = 'live';
  };
  ws.onmessage = (ev: MessageEvent<string>) => {
    const u = JSON.parse(ev.data) as FeedUpdate;
    for (const d of u.domains) domains.set(d.name, d);
    for (const n of u.removed) domains.delete(n);
    render();
  };
  ws.onclose = () => {
    link.textContent = 'disconnected: retrying…';
    link.dataset['link'] = 'down';
    setTimeout(connectEvents, 2000);
  };
}

function render(): void {
  const body = $('domains').querySelector('tbody') as HTMLTableSectionElement;
  const names = [...domains.keys()].sort();
  $('empty').hidden = names.length > 0;
  for (const row of [...body.rows]) if (!domains.has(row.dataset['domain'] ?? '')) row.remove();
  for (const name of names) {
    const d = domains.get(name) as DomainView;
    let row = [...body.rows].find((r) => r.dataset['domain'] === name);
    if (row === undefined) {
      row = body.insertRow();
      row.dataset['domain'] = name;
      row.innerHTML = '<td class="name"><a></a></td><td><span class="state"></span></td><td class="vcpus"></td><td class="memory"></td><td class="cpu"></td><td class="actions"></td>';
      const link = row.querySelector('a') as HTMLAnchorElement;
      link.textContent = name;
      link.addEventListener('click', () => select(name));
      const actions = row.querySelector('.actions') as HTMLElement;
      for (const a of ACTIONS) {
        const b = document.createElement('button');
        b.type = 'button';
        b.textContent = a.label;
        b.dataset['action'] = a.action;
        b.addEventListener('click', () => void act(name, a.action));
        actions.append(b);
      }
    }
    const state = row.querySelector('.state') as HTMLElement;
    state.textContent = d.state;
    state.dataset['state'] = d.state;
    (row.querySelector('.vcpus') as HTMLElement).textContent = String(d.vcpus);
    (row.querySelector('.memory') as HTMLElement).textContent = `${d.memoryMiB} MiB`;
    (row.querySelector('.cpu') as HTMLElement).textContent = d.state === 'running' ? (cpuText.get(name) ?? '') : '';
    for (const b of row.querySelectorAll<HTMLButtonElement>('button[data-action]')) {
      b.disabled = !(ACTIONS.find((a) => a.action === b.dataset['action'])?.when.includes(d.state) ?? false);
    }
    row.classList.toggle('selected', name === selected);
    if (name === selected) {
      const s = $('detail-state');
      s.textContent = d.state;
      s.dataset['state'] = d.state;
      $('vnc-box').hidden = d.vnc === undefined;
    }
  }
  if (selected !== undefined && !domains.has(selected)) $('detail').hidden = true;
}

async function act(name: string, action: string): Promise<void> {
  showError(undefined);
  try {
    const r = await fetch(`/api/domains/${encodeURIComponent(name)}/${action}`, { method: 'POST' });
    if (!r.ok) {
      const body = (await r.json().catch(() => undefined)) as { error?: { message?: string } } | undefined;
      showError(`${action} ${name}: ${body?.error?.message ?? r.statusText}`);
    }
  } catch (e) {
    showError(`${action} ${name}: ${(e as Error).message}`);
  }
}

function select(name: string): void {
  if (selected === name) return;
  selected = name;
  lastStats = undefined;
  for (const c of Object.values(charts)) c.clear();
  vnc?.disconnect();
  vnc = undefined;
  $('vnc').replaceChildren();
  $('vnc-status').textContent = '';
  $('detail').hidden = false;
  $('detail-name').textContent = name;
  consoleView ??= new ConsoleView($('terminal'), showRole);
  consoleView.attach(name);
  render();
}

function showRole(r: KeyboardRole): void {
  const k = $('keyboard');
  k.dataset['keyboard'] = r.writer ? 'mine' : r.held ? 'other' : 'free';
  k.textContent = r.writer ? `you have the keyboard (${r.viewers} viewing)` : r.held ? `read-only: another viewer has the keyboard (${r.viewers} viewing)` : `read-only (${r.viewers} viewing)`;
  $('claim').hidden = r.writer || r.held;
  $('release').hidden = !r.writer;
}

async function pollStats(): Promise<void> {
  const name = selected;
  const d = name === undefined ? undefined : domains.get(name);
  if (name === undefined || d === undefined || d.state === 'shutoff' || d.state === 'starting') return;
  const r = await fetch(`/api/domains/${encodeURIComponent(name)}/stats`).catch(() => undefined);
  if (r === undefined || !r.ok || selected !== name) return;
  const s = (await r.json()) as StatsView;
  const p = lastStats;
  lastStats = s;
  if (p === undefined || p.pid !== s.pid) return;
  const dt = (s.sampledAtMs - p.sampledAtMs) / 1000;
  if (dt <= 0) return;
  const per = (a: number, b: number): number => Math.max(0, b - a) / dt;
  const cpu = (per(p.cpu.userSeconds + p.cpu.systemSeconds, s.cpu.userSeconds + s.cpu.systemSeconds) * 100);
  const sum = <T>(xs: readonly T[], f: (x: T) => number): number => xs.reduce((a, x) => a + f(x), 0);
  charts.cpu.push([cpu]);
  charts.disk.push([per(sum(p.disks, (x) => x.readBytes), sum(s.disks, (x) => x.readBytes)), per(sum(p.disks, (x) => x.writeBytes), sum(s.disks, (x) => x.writeBytes))]);
  charts.net.push([per(sum(p.nics, (x) => x.counters?.rxBytes ?? 0), sum(s.nics, (x) => x.counters?.rxBytes ?? 0)), per(sum(p.nics, (x) => x.counters?.txBytes ?? 0), sum(s.nics, (x) => x.counters?.txBytes ?? 0))]);
  cpuText.set(name, `${cpu.toFixed(1)}% (${formatShort(sum(s.vcpus, (v) => v.seconds))} s)`);
  render();
}

async function openVnc(): Promise<void> {
  if (selected === undefined) return;
  vnc?.disconnect();
  const status = $('vnc-status');
  status.textContent = 'connecting…';
  const { default: RFB } = await import('@novnc/novnc');
  const rfb = new RFB($('vnc'), `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws/vnc/${encodeURIComponent(selected)}`, { wsProtocols: ['binary'] });
  rfb.scaleViewport = true;
  rfb.addEventListener('connect', () => {
    status.textContent = 'connected';
    status.dataset['vnc'] = 'connected';
  });
  rfb.addEventListener('disconnect', () => {
    status.textContent = 'disconnected';
    status.dataset['vnc'] = 'disconnected';
  });
  vnc = rfb;
}

$('claim').addEventListener('click', () => consoleView?.claim());
$('release').addEventListener('click', () => consoleView?.release());
$('vnc-open').addEventListener('click', () => void openVnc());
connectEvents();
setInterval(() => void pollStats(), 2000);
