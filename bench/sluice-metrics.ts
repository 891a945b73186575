// Figures read from a running sluice's /metrics by the bench scripts.

/** Hot keys tracked over all of sluice's hot-key rules (sluice_hot_keys_tracked), or null when unreadable. */
export async function hotKeysTracked(adminUrl: string): Promise<number | null> {
  try {
    const text = await (await fetch(`${adminUrl}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
    let sum: number | null = null;
    for (const line of text.split('\n')) {
      if (line.startsWith('sluice_hot_keys_tracked{')) sum = (sum ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1));
    }
    return sum;
  } catch {
    return null;
  }
}
