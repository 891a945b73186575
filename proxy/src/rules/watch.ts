// Notices changes to the rules files: directory events (debounced), Kubernetes ConfigMap swaps
// (the `..data` symlink is replaced atomically, which shows up as events on the directory), and a
// poll as a fallback for filesystems whose events are unreliable. The watcher only says "look
// again"; the reloader compares the content hash and decides whether anything changed.
import { watch, type FSWatcher } from 'node:fs';
import { stat } from 'node:fs/promises';
import { dirname } from 'node:path';

export interface RulesWatcherOptions {
  /** Coalesce bursts of events (an editor's save is several). */
  debounceMs?: number;
  /** Fallback poll interval. */
  pollMs?: number;
}

export class RulesWatcher {
  private readonly target: string;
  private readonly onChange: () => void;
  private readonly debounceMs: number;
  private readonly pollMs: number;
  private watchers: FSWatcher[] = [];
  private debounce: NodeJS.Timeout | null = null;
  private poll: NodeJS.Timeout | null = null;

  constructor(target: string, onChange: () => void, options: RulesWatcherOptions = {}) {
    this.target = target;
    this.onChange = onChange;
    this.debounceMs = options.debounceMs ?? 100;
    this.pollMs = options.pollMs ?? 1000;
  }

  async start(): Promise<void> {
    let isDir = false;
    try {
      isDir = (await stat(this.target)).isDirectory();
    } catch {
      isDir = false;
    }
    // Watch the directory itself (a file's inode changes on rename-over and symlink swaps, which
    // would orphan a watch on the file), and for a single file its parent directory.
    this.watchPath(isDir ? this.target : dirname(this.target));
    this.poll = setInterval(() => this.onChange(), this.pollMs);
    this.poll.unref();
  }

  private watchPath(path: string): void {
    try {
      const watcher = watch(path, { persistent: false }, () => this.schedule());
      watcher.on('error', () => {
        // The directory went away (ConfigMap remount): the poll keeps us informed.
      });
      this.watchers.push(watcher);
    } catch {
      // Not watchable here: the poll covers it.
    }
  }

  private schedule(): void {
    if (this.debounce !== null) clearTimeout(this.debounce);
    this.debounce = setTimeout(() => {
      this.debounce = null;
      this.onChange();
    }, this.debounceMs);
    this.debounce.unref();
  }

  close(): void {
    for (const watcher of this.watchers) watcher.close();
    this.watchers = [];
    if (this.debounce !== null) clearTimeout(this.debounce);
    if (this.poll !== null) clearInterval(this.poll);
    this.debounce = null;
    this.poll = null;
  }
}
