/** The part of noVNC's RFB class (@novnc/novnc ships no types) the dashboard uses. */
declare module '@novnc/novnc' {
  export default class RFB extends EventTarget {
    constructor(target: HTMLElement, url: string, options?: { wsProtocols?: string[] });
    scaleViewport: boolean;
    resizeSession: boolean;
    disconnect(): void;
  }
}
