/**
 * The serial console in the page: xterm.js on /ws/console/{name}. Output is binary frames; the daemon says
 * in JSON text frames whether this page has the keyboard (one writer, many viewers).
 */
import { FitAddon } from '@xterm/addon-fit';
import { Terminal } from '@xterm/xterm';

export interface KeyboardRole {
  readonly writer: boolean;
  readonly held: boolean;
  readonly viewers: number;
}

export class ConsoleView {
  readonly term: Terminal;
  private readonly fit = new FitAddon();
  private ws: WebSocket | undefined;
  private role: KeyboardRole = { writer: false, held: false, viewers: 0 };

  constructor(private readonly element: HTMLElement, private readonly onRole: (r: KeyboardRole) => void) {
    this.term = new Terminal({ convertEol: false, scrollback: 5000, fontSize: 13, cursorBlink: true });
    this.term.loadAddon(this.fit);
    this.term.open(element);
    this.fit.fit();
    window.addEventListener('resize', () => this.fit.fit());
    this.term.onData((data) => {
      if (this.ws?.readyState === WebSocket.OPEN && this.role.writer) this.ws.send(new TextEncoder().encode(data));
    });
  }

  /** Follows domain `name`'s console (the output kept from before comes first). */
  attach(name: string): void {
    this.detach();
    this.term.reset();
    const ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws/console/${encodeURIComponent(name)}?keyboard=1`);
    ws.binaryType = 'arraybuffer';
    ws.onmessage = (ev: MessageEvent<ArrayBuffer | string>) => {
      if (typeof ev.data === 'string') {
        const msg = JSON.parse(ev.data) as { type?: string } & Partial<KeyboardRole>;
        if (msg.type === 'role') {
          this.role = { writer: msg.writer === true, held: msg.held === true, viewers: msg.viewers ?? 0 };
          this.onRole(this.role);
        }
        return;
      }
      this.term.write(new Uint8Array(ev.data));
    };
    ws.onclose = () => {
      if (this.ws === ws) {
        this.role = { writer: false, held: false, viewers: 0 };
        this.onRole(this.role);
      }
    };
    this.ws = ws;
    this.element.dataset['domain'] = name;
  }

  detach(): void {
    this.ws?.close();
    this.ws = undefined;
  }

  claim(): void {
    this.ws?.send(JSON.stringify({ type: 'claim' }));
  }

  release(): void {
    this.ws?.send(JSON.stringify({ type: 'release' }));
  }
}
