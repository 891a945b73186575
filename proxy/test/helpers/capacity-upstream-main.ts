// The process of the capacity stand-in (capacity-upstream.ts): node capacity-upstream-main.ts
// NAME CAPACITY SERVICE_MS. Prints `listening PORT`. /_control shows (GET) or changes (POST
// ?capacity=&serviceMs=) its settings; every other request is served FIFO.
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

const [name = 'upstream', capacityText = '8', serviceText = '50'] = process.argv.slice(2);
const state = { capacity: Number(capacityText), serviceMs: Number(serviceText), busy: 0, served: 0, maxQueued: 0 };
const queue: ServerResponse[] = [];
const body = JSON.stringify({ cluster: name });

function serve(res: ServerResponse): void {
  state.busy++;
  let done = false;
  const finish = (): void => {
    if (done) return;
    done = true;
    state.busy--;
    next();
  };
  const timer = setTimeout(() => {
    if (!res.destroyed) {
      state.served++;
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    }
    finish();
  }, state.serviceMs);
  res.on('close', () => {
    clearTimeout(timer);
    finish();
  });
}

function next(): void {
  while (state.busy < state.capacity && queue.length > 0) {
    const res = queue.shift() as ServerResponse;
    if (!res.destroyed) serve(res);
  }
}

const server = createServer((req, res) => {
  if ((req.url ?? '').startsWith('/_control')) {
    const query = new URL(req.url ?? '/', 'http://x').searchParams;
    if (req.method === 'POST') {
      if (query.has('capacity')) state.capacity = Number(query.get('capacity'));
      if (query.has('serviceMs')) state.serviceMs = Number(query.get('serviceMs'));
      next();
    }
    const text = JSON.stringify({ ...state, queued: queue.length });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
    return;
  }
  req.resume();
  req.on('end', () => {
    queue.push(res);
    if (queue.length > state.maxQueued) state.maxQueued = queue.length;
    next();
  });
});
server.keepAliveTimeout = 5000;
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`listening ${(server.address() as AddressInfo).port}\n`);
});
process.on('SIGTERM', () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
