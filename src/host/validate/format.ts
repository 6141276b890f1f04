/** Human output of host checks: `Title ........ STATUS  detail — fix: remedy`, one line each. */
import type { CheckResult } from './types.js';

export function formatChecks(results: readonly CheckResult[], width = 46): string {
  const pad = Math.max(width, ...results.map((r) => r.title.length + 4));
  return results
    .map((r) => {
      const dots = '.'.repeat(Math.max(3, pad - r.title.length - 2));
      const fix = r.remedy === undefined ? '' : ` — fix: ${r.remedy}`;
      return `${r.title} ${dots} ${r.status.padEnd(4)}  ${r.detail}${fix}`;
    })
    .join('\n');
}

/** JSON output: every field present (`remedy` null for PASS). */
export function checksJson(results: readonly CheckResult[]): { id: string; title: string; status: string; detail: string; remedy: string | null }[] {
  return results.map((r) => ({ id: r.id, title: r.title, status: r.status, detail: r.detail, remedy: r.remedy ?? null }));
}
