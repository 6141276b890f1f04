/**
 * Setting an SR-IOV virtual function's MAC address through its physical function, as `ip link set PF vf N
 * mac ADDR` does and as libvirt does for `<interface type='hostdev'><mac>`: one rtnetlink RTM_SETLINK
 * message (IFLA_VFINFO_LIST > IFLA_VF_INFO > IFLA_VF_MAC) on a netlink socket, through the koffi FFI; nothing
 * forked. The kernel answers before sendto() returns, so the reply is read without blocking.
 */
import { createRequire } from 'node:module';
import { VmkitError } from '../errors.js';

const AF_NETLINK = 16;
const SOCK_RAW = 3;
const SOCK_CLOEXEC = 0o2000000;
const NETLINK_ROUTE = 0;
const RTM_SETLINK = 19;
const NLM_F_REQUEST = 1;
const NLM_F_ACK = 4;
const NLMSG_ERROR = 2;
const MSG_DONTWAIT = 0x40;
const IFLA_VFINFO_LIST = 22;
const IFLA_VF_INFO = 1;
const IFLA_VF_MAC = 1;

/** `52:54:00:12:34:56` -> 6 bytes. */
function macBytes(mac: string): Uint8Array {
  if (!/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i.test(mac)) throw new VmkitError('InvalidArgument', `Cannot use ${JSON.stringify(mac)} as a MAC address: expected xx:xx:xx:xx:xx:xx`);
  return Uint8Array.from(mac.split(':').map((h) => parseInt(h, 16)));
}

/** The RTM_SETLINK request that sets VF `vf`'s MAC on the PF with interface index `ifindex`. Pure. */
export function vfMacRequest(ifindex: number, vf: number, mac: string, seq = 1): Uint8Array {
  const total = 16 + 16 + 48;
  const buf = new Uint8Array(total);
  const dv = new DataView(buf.buffer);
  // struct nlmsghdr
  dv.setUint32(0, total, true);
  dv.setUint16(4, RTM_SETLINK, true);
  dv.setUint16(6, NLM_F_REQUEST | NLM_F_ACK, true);
  dv.setUint32(8, seq, true);
  dv.setUint32(12, 0, true);
  // struct ifinfomsg: family AF_UNSPEC, type 0, index, flags 0, change 0
  dv.setInt32(20, ifindex, true);
  // IFLA_VFINFO_LIST { IFLA_VF_INFO { IFLA_VF_MAC { __u32 vf; __u8 mac[32]; } } }
  dv.setUint16(32, 48, true);
  dv.setUint16(34, IFLA_VFINFO_LIST, true);
  dv.setUint16(36, 44, true);
  dv.setUint16(38, IFLA_VF_INFO, true);
  dv.setUint16(40, 40, true);
  dv.setUint16(42, IFLA_VF_MAC, true);
  dv.setUint32(44, vf, true);
  buf.set(macBytes(mac), 48);
  return buf;
}

/** The errno of a netlink reply to request `seq`: 0 for an ack, a positive errno for an error, undefined when it is no answer to it. */
export function parseAck(reply: Uint8Array, seq: number): number | undefined {
  const dv = new DataView(reply.buffer, reply.byteOffset, reply.byteLength);
  let off = 0;
  while (off + 16 <= reply.byteLength) {
    const len = dv.getUint32(off, true);
    if (len < 16) return undefined;
    if (dv.getUint16(off + 4, true) === NLMSG_ERROR && dv.getUint32(off + 8, true) === seq && off + 20 <= reply.byteLength) return Math.abs(dv.getInt32(off + 16, true));
    off += (len + 3) & ~3;
  }
  return undefined;
}

interface NetlinkLibc {
  socket(domain: number, type: number, protocol: number): number;
  sendto(fd: number, buf: Uint8Array, len: number, flags: number, addr: Uint8Array, addrlen: number): number;
  recv(fd: number, buf: Uint8Array, len: number, flags: number): number;
  close(fd: number): number;
  errno(): number;
  errnoName(n: number): string;
}

let bound: NetlinkLibc | undefined;

function netlinkLibc(): NetlinkLibc {
  if (bound !== undefined) return bound;
  let koffi: typeof import('koffi');
  try {
    koffi = createRequire(import.meta.url)('koffi') as typeof import('koffi');
  } catch (e) {
    throw new VmkitError('HostError', "Cannot load the koffi FFI module: reinstall vmkit's dependencies (npm ci)", { cause: e });
  }
  const lib = koffi.load('libc.so.6');
  const names = new Map<number, string>();
  for (const [name, num] of Object.entries(koffi.os.errno)) if (!names.has(num)) names.set(num, name);
  // Linux's ENOTSUP is EOPNOTSUPP, the name netlink users know (ip prints "Operation not supported").
  const eop = (koffi.os.errno as Record<string, number>)['EOPNOTSUPP'];
  if (eop !== undefined) names.set(eop, 'EOPNOTSUPP');
  bound = {
    socket: lib.func('int socket(int domain, int type, int protocol)') as NetlinkLibc['socket'],
    sendto: lib.func('long sendto(int fd, const uint8_t *buf, size_t len, int flags, const uint8_t *addr, uint32_t addrlen)') as NetlinkLibc['sendto'],
    recv: lib.func('long recv(int fd, _Out_ uint8_t *buf, size_t len, int flags)') as NetlinkLibc['recv'],
    close: lib.func('int close(int fd)') as NetlinkLibc['close'],
    errno: () => koffi.errno(),
    errnoName: (n) => names.get(n) ?? `errno ${n}`,
  };
  return bound;
}

const HINTS: Readonly<Record<string, string>> = {
  EPERM: 'needs root (CAP_NET_ADMIN)',
  EOPNOTSUPP: 'the interface has no SR-IOV virtual functions, or its driver cannot set their MAC',
  EINVAL: 'no such VF number on this PF',
  ENODEV: 'the interface does not exist',
};

/** Sets VF `vf`'s MAC on PF interface `ifindex` (named `pfName` in errors). Throws HostError naming the errno. */
export function setVfMac(pf: { readonly ifindex: number; readonly name: string }, vf: number, mac: string): void {
  const c = netlinkLibc();
  const fd = c.socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  const fail = (call: string, errno: number): VmkitError => {
    const name = c.errnoName(errno);
    const hint = HINTS[name];
    return new VmkitError('HostError', `Cannot set the MAC of VF ${vf} of ${pf.name} to ${mac} (ip link set ${pf.name} vf ${vf} mac ${mac}): ${call} failed with ${name}${hint === undefined ? '' : ` (${hint})`}`, {
      details: { pf: pf.name, vf, mac, errno: name },
    });
  };
  if (fd < 0) throw fail('socket(AF_NETLINK)', c.errno());
  try {
    const seq = (Date.now() & 0x7fffffff) >>> 0;
    const req = vfMacRequest(pf.ifindex, vf, mac, seq);
    const kernel = new Uint8Array(12);
    new DataView(kernel.buffer).setUint16(0, AF_NETLINK, true);
    if (c.sendto(fd, req, req.length, 0, kernel, kernel.length) < 0) throw fail('sendto', c.errno());
    const reply = new Uint8Array(4096);
    const n = c.recv(fd, reply, reply.length, MSG_DONTWAIT);
    if (n < 0) throw fail('recv', c.errno());
    const errno = parseAck(reply.subarray(0, n), seq);
    if (errno === undefined) throw new VmkitError('HostError', `Cannot set the MAC of VF ${vf} of ${pf.name}: the kernel's netlink answer was not an acknowledgement`);
    if (errno !== 0) throw fail('RTM_SETLINK', errno);
  } finally {
    c.close(fd);
  }
}
