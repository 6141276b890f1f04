/** Request bodies of the daemon's routes: bounded reading, and JSON with one error for text that is not JSON. */
import type http from 'node:http';
import { VmkitError } from '../errors.js';

/** Largest request body the daemon reads (routes that carry file contents pass their own limit). */
export const MAX_BODY_BYTES = 10 * 1024 * 1024;

/** A request's body as text, at most `max` bytes (plain events: cheaper than an async iterator per request). */
export function readBody(req: http.IncomingMessage, max = MAX_BODY_BYTES): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (e?: Error): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
      if (e === undefined) resolve(chunks.length === 1 ? (chunks[0] as Buffer).toString('utf8') : Buffer.concat(chunks).toString('utf8'));
      else reject(e);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > max) {
        req.socket.destroy();
        done(new VmkitError('InvalidArgument', `Request body larger than ${max} bytes`));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => done();
    const onError = (e: Error): void => done(e);
    const onClose = (): void => {
      if (!req.complete) done(new VmkitError('InvalidArgument', 'The request was closed before its body was complete'));
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
  });
}

/** A body's JSON value; an empty body is `{}`. Throws InvalidArgument for text that is not JSON. */
export function parseJsonBody(text: string): unknown {
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new VmkitError('InvalidArgument', `Request body is not JSON: ${(e as Error).message}`);
  }
}
