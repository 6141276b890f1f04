/**
 * libvirt domain XML: import (`parseLibvirtXml`, the `vmkit run|define domain.xml` path) and export
 * (`exportLibvirtXml`, what `vmkit dumpxml` writes). Pure.
 */
export { parseLibvirtXml, type LibvirtParseOptions, type LibvirtParseResult } from './parse-libvirt.js';
export { exportLibvirtXml } from './export-domain.js';
export { VMKIT_NS as VMKIT_METADATA_NS } from './read-metadata.js';
export { QEMU_NS as LIBVIRT_QEMU_NS } from './read-qemu.js';
