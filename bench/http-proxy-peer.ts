// A real-world Node peer: `http-proxy` (the dependency sluice uses for WebSocket upgrades) as a
// plain HTTP reverse proxy over keep-alive, no guards. Usage: node http-proxy-peer.ts UPSTREAM_URL.
// Prints {"port":N} when listening.
import { Agent, createServer } from 'node:http';
import httpProxy from 'http-proxy';

const agent = new Agent({ keepAlive: true, maxSockets: 64 });
const proxy = httpProxy.createProxyServer({ target: process.argv[2] ?? 'http://127.0.0.1:8081', agent, xfwd: true });
proxy.on('error', (_err, _req, res) => {
  if ('writeHead' in res && !res.headersSent) res.writeHead(502);
  res.end();
});
const server = createServer((req, res) => proxy.web(req, res));
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(JSON.stringify({ port: typeof address === 'object' && address !== null ? address.port : 0 }) + '\n');
});
const stop = (): void => { server.closeAllConnections(); process.exit(0); };
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.on('disconnect', stop);
