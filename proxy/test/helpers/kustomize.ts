// Renders a kustomization into its objects: with `kubectl kustomize` when kubectl is on the
// machine, else by reading the same files directly (resources as they are, ConfigMaps built from
// configMapGenerator's files), which covers what the shipped kit uses.
import { execFile } from 'node:child_process';
import { accessSync, constants, readFileSync } from 'node:fs';
import { basename, delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { parse, parseAllDocuments } from 'yaml';

export interface KubeObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly labels?: Readonly<Record<string, string>> };
  readonly [field: string]: unknown;
}

export function findKubectl(): string | null {
  for (const dir of [...(process.env.PATH ?? '').split(delimiter), '/usr/bin', '/usr/local/bin']) {
    const candidate = join(dir, 'kubectl');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return null;
}

interface Generator {
  name: string;
  files?: string[];
  options?: { labels?: Record<string, string>; disableNameSuffixHash?: boolean };
}

interface Kustomization {
  resources?: string[];
  configMapGenerator?: Generator[];
  labels?: { pairs: Record<string, string> }[];
}

export function readKustomizationFiles(dir: string): KubeObject[] {
  const kustomization = parse(readFileSync(join(dir, 'kustomization.yaml'), 'utf8')) as Kustomization;
  const common = Object.assign({}, ...(kustomization.labels ?? []).map((l) => l.pairs)) as Record<string, string>;
  const objects: KubeObject[] = [];
  for (const generator of kustomization.configMapGenerator ?? []) {
    const data: Record<string, string> = {};
    for (const file of generator.files ?? []) data[basename(file)] = readFileSync(join(dir, file), 'utf8');
    objects.push({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: generator.name, labels: { ...common, ...generator.options?.labels } },
      data,
    });
  }
  for (const resource of kustomization.resources ?? []) {
    for (const doc of parseAllDocuments(readFileSync(join(dir, resource), 'utf8'))) {
      const object = doc.toJS() as KubeObject;
      objects.push({ ...object, metadata: { ...object.metadata, labels: { ...common, ...object.metadata.labels } } });
    }
  }
  return objects;
}

/** The kustomization's objects, and how they were rendered. */
export async function renderKustomization(dir: string): Promise<{ objects: KubeObject[]; renderer: string }> {
  const kubectl = findKubectl();
  if (kubectl === null) return { objects: readKustomizationFiles(dir), renderer: 'files read directly (no kubectl)' };
  const { stdout } = await promisify(execFile)(kubectl, ['kustomize', dir], { maxBuffer: 16 * 1024 * 1024 });
  const objects = parseAllDocuments(stdout).map((doc) => doc.toJS() as KubeObject);
  return { objects, renderer: `${kubectl} kustomize` };
}
