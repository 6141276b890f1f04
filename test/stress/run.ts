/**
 * `npm run stress`: the long storm. Bounded by STRESS_SECONDS (default 60) and counts from the
 * environment: STRESS_DOMAINS (32), STRESS_CLIENTS (16), STRESS_DEFINERS (4), STRESS_DAEMON_KILLS (2),
 * STRESS_QEMU_KILL_MS (300). Exit 0 when nothing unexpected happened and every invariant held.
 */
import { runStorm } from './storm.js';

const num = (name: string, fallback: number): number => {
  const v = Number(process.env[name] ?? fallback);
  if (!Number.isFinite(v) || v < 0) throw new Error(`${name} must be a number >= 0`);
  return v;
};

const report = await runStorm({
  seconds: num('STRESS_SECONDS', 60),
  domains: num('STRESS_DOMAINS', 32),
  clients: num('STRESS_CLIENTS', 16),
  definers: num('STRESS_DEFINERS', 4),
  daemonKills: num('STRESS_DAEMON_KILLS', 2),
  qemuKillMs: num('STRESS_QEMU_KILL_MS', 300),
  log: (l) => process.stderr.write(`${l}\n`),
});
process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
const ok = report.unexpected.length === 0 && report.violations.length === 0;
process.stderr.write(ok ? 'stress: PASS\n' : `stress: FAIL (${report.unexpected.length} unexpected errors, ${report.violations.length} violations)\n`);
process.exit(ok ? 0 : 1);
