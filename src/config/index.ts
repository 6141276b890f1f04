/**
 * Definition formats -> validated, read-only DomainSpec.
 * Native vmkit YAML, qemu-launcher YAML (unchanged), libvirt domain XML (detected; import comes later).
 */
export { parseDefinition, validateDefinition, type DefinitionOptions } from './parse-definition.js';
export { detectFormat } from './detect-format.js';
export { loadDefinitionFile, readDefinitionFile } from './load-definition-file.js';
export { readDefinitionText, checkDefinitionText, MAX_DEFINITION_BYTES } from './definition-text.js';
export { locateDefinition, DEFAULT_LAUNCHER_CONFIG_DIR } from './locate-definition.js';
export { parseCpuSet, formatCpuSet } from '../util/cpu-set.js';
export { parseSize, formatSize, type SizeUnit } from './size.js';
export { domainJsonSchema, SCHEMA_ID } from './native/schema.js';
export { parseLibvirtXml, exportLibvirtXml, type LibvirtParseOptions, type LibvirtParseResult } from './libvirt/index.js';
