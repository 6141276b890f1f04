/**
 * noVNC in the browser speaks RFB over a websocket; QEMU's VNC server speaks it over TCP. This joins the
 * two, byte for byte, with backpressure both ways.
 */
import net from 'node:net';
import type { WebSocket } from 'ws';

const HIGH_WATER = 4 * 1024 * 1024;

export function proxyVnc(ws: WebSocket, target: { readonly host: string; readonly port: number }): void {
  const sock = net.createConnection({ host: target.host, port: target.port });
  sock.setNoDelay(true);
  const close = (): void => {
    sock.destroy();
    if (ws.readyState === ws.OPEN || ws.readyState === ws.CONNECTING) ws.close(1000);
  };
  sock.on('data', (chunk: Buffer) => {
    ws.send(chunk, { binary: true });
    if (ws.bufferedAmount > HIGH_WATER) {
      sock.pause();
      const wait = (): void => {
        if (ws.readyState !== ws.OPEN) return;
        if (ws.bufferedAmount > HIGH_WATER / 2) setTimeout(wait, 10);
        else sock.resume();
      };
      setTimeout(wait, 10);
    }
  });
  sock.on('error', close);
  sock.on('close', close);
  ws.on('message', (data: Buffer | ArrayBuffer | Buffer[]) => {
    const buf = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
    if (!sock.write(buf)) ws.pause();
  });
  sock.on('drain', () => ws.resume());
  ws.on('close', close);
  ws.on('error', close);
}
