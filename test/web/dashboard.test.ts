/**
 * The web dashboard in a real browser (Debian's chromium driven by playwright-core) against a real daemon
 * started with --web, the tiny guest booting under TCG: log in through the printed URL, start the guest,
 * see its banner in the xterm (attached after the banner was printed: the ring buffer's replay), see the
 * charts fill, press Shut down and see the state change; the VNC display through noVNC; and the server's
 * refusals (no token, another host name, another origin). Screenshots go to .cache/artifacts/.
 */
import assert from 'node:assert/strict';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import WebSocket from 'ws';
import { RemoteConnection } from '../../src/api/client.js';
import { daemonBase, spawnDaemon, type DaemonProc } from '../api/daemon-process.js';
import { killQemusUnder, pausedYaml } from '../driver/fixtures.js';
import { waitUntil } from '../helpers/cli.js';
import { ACCEL_NOTE, REPO, tinyYaml } from '../helpers/guest.js';

const ARTIFACTS = join(REPO, '.cache/artifacts');
/** The flags Debian's chromium needs here (root, no GPU, a closed network). */
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

interface WebReady {
  readonly web: { readonly url: string; readonly loginUrl: string; readonly token: string };
}

/** A raw HTTP exchange (node's fetch refuses to set Host and Origin). */
async function raw(url: string, headers: Record<string, string>, method = 'GET'): Promise<number> {
  const http = await import('node:http');
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

function wsOpen(url: string, headers: Record<string, string>): Promise<{ ws: WebSocket; messages: (Buffer | string)[] } | { status: number }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, ['binary'], { headers });
    const messages: (Buffer | string)[] = [];
    ws.on('message', (data, binary) => messages.push(binary ? (data as Buffer) : String(data)));
    ws.once('open', () => resolve({ ws, messages }));
    ws.once('unexpected-response', (_req, res) => resolve({ status: res.statusCode ?? 0 }));
    ws.once('error', () => resolve({ status: -1 }));
  });
}

describe(`the web dashboard in Chromium (${ACCEL_NOTE})`, () => {
  let base: string;
  let daemon: DaemonProc;
  let web: WebReady['web'];
  let conn: RemoteConnection;
  let browser: Browser;
  let page: Page;
  before(async () => {
    base = await daemonBase('vmkit-test-web-');
    daemon = await spawnDaemon(join(base, 'd.sock'), join(base, 'root'), ['--web', '127.0.0.1:0']);
    web = (daemon.ready as unknown as WebReady).web;
    conn = await RemoteConnection.open(join(base, 'd.sock'));
    await conn.define({ text: tinyYaml({ name: 'webtiny', action: 'wait' }) });
    await conn.define({ text: `${pausedYaml('webvnc')}\ngraphics: vnc\n` });
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await mkdir(ARTIFACTS, { recursive: true });
  });
  after(async () => {
    await browser?.close();
    await conn?.close();
    await daemon?.kill9();
    await killQemusUnder(join(base, 'root'));
    await rm(base, { recursive: true, force: true });
  });

  it('prints its token once at start, in the login URL, and nowhere else', () => {
    assert.match(web.loginUrl, /^http:\/\/127\.0\.0\.1:\d+\/login\?token=[A-Za-z0-9_-]{43}$/);
    assert.equal(daemon.stderr().split(web.token).length, 2, 'the token appears in exactly one log line');
    assert.match(daemon.stderr(), /web dashboard: open http:\/\/127\.0\.0\.1:\d+\/login\?token=/);
  });

  it('refuses requests without the token, from another host name or origin, and a wrong login', async () => {
    const host = new URL(web.url).host;
    assert.equal((await fetch(web.url)).status, 401);
    assert.equal((await fetch(`${web.url}api/domains`)).status, 401);
    assert.equal((await fetch(`${web.url}login?token=${web.token.slice(0, -1)}x`, { redirect: 'manual' })).status, 401);
    const bearer = { Authorization: `Bearer ${web.token}` };
    assert.equal((await fetch(`${web.url}api/domains`, { headers: bearer })).status, 200);
    assert.equal(await raw(`${web.url}api/domains`, { ...bearer, Host: `rebound.example:${new URL(web.url).port}` }), 403);
    assert.equal(await raw(`${web.url}api/domains/webtiny/start`, { ...bearer, Origin: 'http://evil.example' }, 'POST'), 403);
    assert.equal(conn.lookup('webtiny').state(), 'shutoff', 'the refused start did nothing');
    const foreign = await wsOpen(`ws://${host}/ws/events`, { ...bearer, Origin: 'http://evil.example' });
    assert.deepEqual(foreign, { status: 403 });
    const anonymous = await wsOpen(`ws://${host}/ws/events`, {});
    assert.deepEqual(anonymous, { status: 401 });
  });

  it('logs in through the printed URL, starts the guest, shows its console from before it attached, charts it and shuts it down', { timeout: 150_000 }, async () => {
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(web.loginUrl);
    assert.equal(page.url(), web.url, 'the login redirects away from the token');
    const row = page.locator('tr[data-domain="webtiny"]');
    const state = row.locator('.state');
    await state.filter({ hasText: 'shutoff' }).waitFor({ timeout: 15_000 });
    await row.locator('button[data-action="start"]').click();
    await row.locator('.state[data-state="running"]').waitFor({ timeout: 60_000 });
    // Wait for the guest with the library (replaying what came before), and only then open the page's console.
    const d = conn.lookup('webtiny');
    let text = '';
    const opened = d.openConsole({ replay: true });
    d.on('console', (c) => (text += c.toString()));
    await opened;
    assert.ok(await waitUntil(async () => text.includes('VMKIT-GUEST-READY'), 60_000), `guest ready:\n${text}`);
    await row.locator('td.name a').click();
    const terminal = page.locator('#terminal .xterm-rows');
    await terminal.filter({ hasText: 'VMKIT-GUEST-BANNER' }).waitFor({ timeout: 15_000 });
    await terminal.filter({ hasText: 'VMKIT-GUEST-READY' }).waitFor({ timeout: 15_000 });
    await page.locator('#keyboard[data-keyboard="mine"]').waitFor({ timeout: 5000 });
    // A second viewer watches read-only while the page has the keyboard.
    const second = await wsOpen(`ws://${new URL(web.url).host}/ws/console/webtiny?keyboard=1`, { Authorization: `Bearer ${web.token}` });
    assert.ok('ws' in second);
    assert.ok(await waitUntil(async () => second.messages.some((m) => typeof m === 'string' && m.includes('"type":"role"')), 5000));
    const role = JSON.parse(second.messages.find((m): m is string => typeof m === 'string') ?? '{}') as { writer: boolean; held: boolean; viewers: number };
    assert.deepEqual(role, { type: 'role', writer: false, held: true, viewers: 2 });
    assert.ok(Buffer.concat(second.messages.filter((m): m is Buffer => Buffer.isBuffer(m))).toString().includes('VMKIT-GUEST-BANNER'), 'a second viewer gets the kept output too');
    await page.locator('#keyboard', { hasText: '2 viewing' }).waitFor({ timeout: 5000 });
    second.ws.close();
    // Statistics every 2 s: the CPU column fills once two samples are in.
    await row.locator('td.cpu', { hasText: '%' }).waitFor({ timeout: 20_000 });
    await page.locator('#chart-cpu[data-points="3"]').waitFor({ timeout: 20_000 });
    const shot = join(ARTIFACTS, 'web-dashboard-running.png');
    await page.screenshot({ path: shot, fullPage: true });
    process.stdout.write(`screenshot: ${shot}\n`);
    await row.locator('button[data-action="shutdown"]').click();
    await row.locator('.state[data-state="shutoff"]').waitFor({ timeout: 60_000 });
    await terminal.filter({ hasText: 'VMKIT-GUEST-POWERBUTTON' }).waitFor({ timeout: 5000 });
    assert.equal(d.state(), 'shutoff');
    assert.equal((await d.info()).lastStop?.reason, 'shutdown');
    const after = join(ARTIFACTS, 'web-dashboard-shutoff.png');
    await page.screenshot({ path: after, fullPage: true });
    process.stdout.write(`screenshot: ${after}\n`);
    assert.deepEqual(errors, []);
  });

  it('shows a VNC domain\'s display through noVNC, proxied over the websocket', { timeout: 60_000 }, async () => {
    const d = conn.lookup('webvnc');
    await d.start({ paused: true });
    // The proxy itself: QEMU's RFB greeting arrives over the websocket.
    const direct = await wsOpen(`ws://${new URL(web.url).host}/ws/vnc/webvnc`, { Authorization: `Bearer ${web.token}` });
    assert.ok('ws' in direct);
    assert.ok(await waitUntil(async () => direct.messages.length > 0, 10_000));
    assert.match(String(direct.messages[0]), /^RFB 003\.00\d\n$/);
    direct.ws.close();
    const row = page.locator('tr[data-domain="webvnc"]');
    await row.locator('.state[data-state="paused"]').waitFor({ timeout: 15_000 });
    await row.locator('td.name a').click();
    await page.locator('#vnc-box:not([hidden]) #vnc-open').click();
    await page.locator('#vnc-status[data-vnc="connected"]').waitFor({ timeout: 20_000 });
    assert.equal(await page.locator('#vnc canvas').count(), 1);
    const refused = await wsOpen(`ws://${new URL(web.url).host}/ws/vnc/webtiny`, { Authorization: `Bearer ${web.token}` });
    assert.deepEqual(refused, { status: 409 });
    await d.destroy();
  });
});
