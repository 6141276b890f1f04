/** The bridge named by a libvirt `<network>` document (apart from libvirt-network.ts: loads the XML reader only when a NIC names a network). Pure. */
import { parseXml, type XmlElement } from '../config/libvirt/xml-tree.js';

/** Forward modes whose network has no bridge of its own: macvtap on host NICs, or a pool of assignable VFs. */
const NO_BRIDGE: Readonly<Record<string, string>> = {
  bridge: "it forwards through macvtap on host interfaces (<forward mode='bridge'> without <bridge>), which vmkit does not create",
  private: "it is a macvtap network (<forward mode='private'>), which vmkit does not create",
  vepa: "it is a macvtap network (<forward mode='vepa'>), which vmkit does not create",
  passthrough: "it is a macvtap network (<forward mode='passthrough'>), which vmkit does not create",
  hostdev: "it is a pool of SR-IOV VFs (<forward mode='hostdev'>): assign one VF with type: hostdev instead",
};

/**
 * The bridge of the `<network>` in `text` (a network definition or a status file), or why there is none. Pure.
 */
export function bridgeOfNetworkXml(text: string): { readonly bridge: string } | { readonly problem: string } {
  const parsed = parseXml(text);
  if (!parsed.ok) return { problem: `it is not well-formed XML (${parsed.message})` };
  const root = parsed.root;
  const network = root.local === 'network' ? root : root.local === 'networkstatus' ? root.children.find((c) => c.local === 'network') : undefined;
  if (network === undefined) return { problem: `its root element is <${root.name}>, not <network> or <networkstatus>` };
  const bridge = attr(network.children.find((c) => c.local === 'bridge'), 'name');
  if (bridge !== undefined && bridge !== '') return { bridge };
  const mode = attr(network.children.find((c) => c.local === 'forward'), 'mode');
  const why = mode === undefined ? undefined : NO_BRIDGE[mode];
  return { problem: why ?? 'it names no bridge (<bridge name=...>), which libvirtd picks only when the network starts' };
}

function attr(el: XmlElement | undefined, name: string): string | undefined {
  return el?.attrs.find((a) => a.uri === '' && a.local === name)?.value;
}
