// Reading a running sidecar's admin port: JSON views and Prometheus samples.

interface AdminAddress {
  readonly adminUrl: string;
}

export async function adminJson<T>(sidecar: AdminAddress, path: string, init?: RequestInit): Promise<T> {
  const res = await fetch(`${sidecar.adminUrl}${path}`, init);
  const text = await res.text();
  if (!res.ok) throw new Error(`${init?.method ?? 'GET'} ${path}: ${res.status} ${text}`);
  return JSON.parse(text) as T;
}

export async function metricsText(sidecar: AdminAddress): Promise<string> {
  const res = await fetch(`${sidecar.adminUrl}/metrics`);
  if (!res.ok) throw new Error(`GET /metrics: ${res.status}`);
  return res.text();
}

/**
 * The sum of the samples of `name` whose labels include every one of `labels`, or null when no
 * sample matches (a series never created).
 */
export function metricValue(text: string, name: string, labels: Readonly<Record<string, string>> = {}): number | null {
  let sum: number | null = null;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name) || (line[name.length] !== '{' && line[name.length] !== ' ')) continue;
    const close = line.lastIndexOf('}');
    const labelText = line[name.length] === '{' ? line.slice(name.length + 1, close) : '';
    const value = Number(line.slice((close === -1 ? name.length : close + 1)).trim());
    const seen = new Map<string, string>();
    for (const m of labelText.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) seen.set(m[1], m[2]);
    if (Object.entries(labels).every(([k, v]) => seen.get(k) === v)) sum = (sum ?? 0) + value;
  }
  return sum;
}
