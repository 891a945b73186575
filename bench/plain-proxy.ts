// The floor peer: the plainest fast forwarding proxy undici allows. No guards, no metrics, no
// logging; hop-by-hop headers dropped both ways, bodies streamed with backpressure.
// Usage: node plain-proxy.ts UPSTREAM_URL [PORT]. Prints {"port":N} when listening.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { Pool, type Dispatcher } from 'undici';

const hopByHop = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'host']);
const pool = new Pool(process.argv[2] ?? 'http://127.0.0.1:8081', { connections: 64, pipelining: 1 });

function forwardHeaders(raw: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) if (!hopByHop.has(raw[i].toLowerCase())) out.push(raw[i], raw[i + 1]);
  return out;
}

// One object per request, methods on the prototype: no per-request closures.
class Forward implements Dispatcher.DispatchHandler {
  private readonly res: ServerResponse;
  constructor(res: ServerResponse) { this.res = res; }
  onRequestStart(): void {}
  onResponseStart(controller: Dispatcher.DispatchController, statusCode: number, headers: Record<string, string | string[] | undefined>): void {
    // The client went away: free the upstream connection instead of answering nobody.
    if (this.res.destroyed) { controller.abort(new Error('client closed')); return; }
    for (const name in headers) if (!hopByHop.has(name)) this.res.setHeader(name, headers[name] as string | string[]);
    this.res.writeHead(statusCode);
  }
  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.res.write(chunk)) return;
    if (this.res.destroyed) { controller.abort(new Error('client closed')); return; }
    controller.pause();
    this.res.once('drain', () => controller.resume());
    this.res.once('close', () => { if (!this.res.writableFinished) controller.abort(new Error('client closed')); });
  }
  onResponseEnd(): void { this.res.end(); }
  onResponseError(_controller: Dispatcher.DispatchController, err: Error): void {
    if (this.res.destroyed) return;
    if (this.res.headersSent) this.res.destroy(err);
    else { this.res.statusCode = 502; this.res.end(); }
  }
}

function forward(req: IncomingMessage, res: ServerResponse): void {
  const bodyless = req.method === 'GET' || req.method === 'HEAD';
  pool.dispatch({ path: req.url ?? '/', method: req.method as Dispatcher.HttpMethod, headers: forwardHeaders(req.rawHeaders), body: bodyless ? null : req }, new Forward(res));
}

const server = createServer(forward);
server.keepAliveTimeout = 60_000;
server.listen(Number(process.argv[3] ?? 0), '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(JSON.stringify({ port: typeof address === 'object' && address !== null ? address.port : 0 }) + '\n');
});
const stop = (): void => { server.closeAllConnections(); process.exit(0); };
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.on('disconnect', stop);
