/**
 * Writes schema/vmkit-domain.schema.json from the TypeBox source (src/config/native/schema.ts).
 * `npm run schema` (after `npm run build`); `--check` only compares and exits 1 when the file is stale.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { domainJsonSchemaText } from '../src/config/native/schema.js';

// This file runs as dist/scripts/gen-schema.js: the repository root is two levels up.
const out = fileURLToPath(new URL('../../schema/vmkit-domain.schema.json', import.meta.url));
const text = domainJsonSchemaText();

if (process.argv.includes('--check')) {
  let current = '';
  try {
    current = readFileSync(out, 'utf8');
  } catch {
    // missing file: stale
  }
  if (current !== text) {
    console.error(`${out} is out of date; run \`npm run build && npm run schema\``);
    process.exitCode = 1;
  } else {
    console.log(`${out} is up to date`);
  }
} else {
  writeFileSync(out, text);
  console.log(`wrote ${out}`);
}
