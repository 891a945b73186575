// The fixed upstream every variant ends at: a stand-in member service answering one prebuilt
// member profile (~300 bytes of JSON) on every path, over keep-alive. It does the least work an
// HTTP server can do so that differences between variants are the proxies', not its own.
// Prints {"port":N} on stdout when listening; exits when its parent goes away.
import { createServer } from 'node:http';

const body = Buffer.from(JSON.stringify({
  id: '100042',
  name: 'Zhang Min',
  level: 'platinum',
  points: 184220,
  since: '2014-06-02',
  email: 'zhang.min@example.com',
  phone: '+86-138-0000-0042',
  preferences: { seat: 'aisle', meal: 'vegetarian', language: 'zh-CN', currency: 'CNY' },
  benefits: ['lounge', 'priority-boarding', 'free-cancellation', 'late-checkout'],
  updated_at: '2024-03-18T09:12:44Z',
}));
const headers = ['content-type', 'application/json', 'content-length', String(body.length)];

const server = createServer((req, res) => {
  // Drain any request body without reading it; GETs have none.
  req.resume();
  res.writeHead(200, headers);
  res.end(body);
});
server.keepAliveTimeout = 60_000;
server.headersTimeout = 65_000;
server.maxRequestsPerSocket = 0;

const port = Number(process.argv[2] ?? 0);
server.listen(port, '127.0.0.1', () => {
  const address = server.address();
  const bound = typeof address === 'object' && address !== null ? address.port : port;
  process.stdout.write(JSON.stringify({ port: bound, bodyBytes: body.length }) + '\n');
});

function stop(): void {
  server.close();
  server.closeAllConnections();
  process.exit(0);
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.on('disconnect', stop);
