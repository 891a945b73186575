// A caller that goes away halfway through an answer: it reads the first chunk and destroys its
// request (a fresh connection, no agent). Resolves once it has left.
import { request as httpRequest } from 'node:http';

export function leaveAfterFirstChunk(url: string | URL, headers: Record<string, string> = {}): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const req = httpRequest(url, { agent: false, headers }, (res) => {
      res.once('data', () => {
        req.destroy();
        resolve();
      });
    });
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'ECONNRESET') reject(err);
    });
    req.end();
  });
}
