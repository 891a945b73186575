// nginx as a peer: one worker process (no master), proxying to the bench upstream over a
// keep-alive upstream pool, access log off; its config, pid and temp files in the run's temporary
// directory. Skipped when nginx is not installed.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, spawnChild, waitUntil, type Child } from './children.ts';

const CANDIDATES = ['/usr/sbin/nginx', '/usr/local/sbin/nginx', '/usr/local/nginx/sbin/nginx', '/usr/bin/nginx'];

export function nginxBinary(): string | null {
  return process.env.BENCH_NGINX ?? CANDIDATES.find((path) => existsSync(path)) ?? null;
}

function config(dir: string, port: number, upstreamPort: number): string {
  return `worker_processes 1;
daemon off;
master_process off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  keepalive_requests 10000000;
  keepalive_timeout 65s;
  upstream member { server 127.0.0.1:${upstreamPort}; keepalive 64; keepalive_requests 10000000; }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://member;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
    }
  }
}
`;
}

export async function startNginx(binary: string, tmpDir: string, upstreamPort: number, readyTimeoutMs: number): Promise<{ child: Child; port: number }> {
  const dir = join(tmpDir, 'nginx');
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const file = join(dir, 'nginx.conf');
  writeFileSync(file, config(dir, port, upstreamPort));
  const child = spawnChild('nginx', binary, ['-p', dir, '-c', file, '-e', join(dir, 'error.log')], { logDir: tmpDir });
  await waitUntil(child, `listening on ${port}`, async () => {
    const res = await fetch(`http://127.0.0.1:${port}/members/100001`, { signal: AbortSignal.timeout(1000) });
    await res.arrayBuffer();
    return res.status === 200;
  }, readyTimeoutMs);
  return { child, port };
}
