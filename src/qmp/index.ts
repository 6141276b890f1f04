/**
 * vmkit's QMP layer: a client for QEMU's JSON monitor protocol.
 *
 * Two directions:
 * - vmkit listens, QEMU connects (used when vmkit starts QEMU; no polling for a socket):
 *     const l = await QmpListener.listen(`${stateDir}/qmp.sock`);       // mode 0600
 *     spawn qemu ... -chardev socket,id=vmkit-qmp,path=<sock>,server=off -mon chardev=vmkit-qmp,mode=control
 *     const qmp = await l.accept({ signal: exited.signal });             // greeting read, capabilities negotiated
 *     await l.close();                                                   // socket file removed; qmp stays open
 * - QEMU listens, vmkit connects (probing, re-adoption): `-qmp unix:<path>,server=on,wait=off`, then
 *     const qmp = await QmpClient.connect(path);
 *
 * Then: `await qmp.execute('query-status')`, `qmp.on('event', e => ...)`, `qmp.waitForEvent('SHUTDOWN')`,
 * `qmp.on('close', err => ...)`, `await qmp.close()`. Every wait takes `{ timeoutMs, signal }`.
 */
export { QmpClient, type CallOptions, type ClientOptions, type QmpClientEvents } from './client.js';
export { QmpListener, checkSocketPath, MAX_UNIX_SOCKET_PATH_BYTES } from './listener.js';
export { DEFAULT_TIMEOUT_MS } from './bounded.js';
export type { QmpEvent, QmpGreeting } from './protocol.js';
