// Binds an HTTP server and settles when it listens, or rejects with the bind error (port taken).
import type { Server } from 'node:http';

export function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}
