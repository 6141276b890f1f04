/**
 * The definition validators, one per schema. This module is the tsc build's (tests, development): it
 * compiles the TypeBox schemas with ajv on first use. The bundle that bin/vmkit runs replaces it with
 * standalone code that ajv generated from the same schemas at build time (scripts/gen-validators.ts), so a
 * shipped vmkit neither loads TypeBox nor compiles a schema. Both export exactly these functions. Pure.
 */
import type { ValidateFunction } from 'ajv';
import { validatorFor } from './ajv.js';
import { LauncherFile } from './launcher/schema.js';
import { domainJsonSchema } from './native/schema.js';
import { splitTopLevel } from './schema-split.js';

const NATIVE = splitTopLevel(domainJsonSchema());
const LAUNCHER = splitTopLevel(LauncherFile);

/** The native definition schema (vmkit YAML; libvirt XML drafts are checked against it too). */
export function nativeValidator(): ValidateFunction {
  return validatorFor(NATIVE);
}

/** The qemu-launcher file schema. */
export function launcherValidator(): ValidateFunction {
  return validatorFor(LAUNCHER);
}
