// deploy/kubernetes: the kustomize base renders, every object passes the published Kubernetes and
// prometheus-operator OpenAPI schemas, the generated files match their sources (rules/, the
// alerts, the dashboard), and the sidecar's container agrees with the rules' server section.
import assert from 'node:assert/strict';
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { ConfigMap, Service } from 'kubernetes-models/v1';
import { Deployment } from 'kubernetes-models/apps/v1';
import { PodMonitor, PrometheusRule } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';
import { parse } from 'yaml';
import { GENERATED, KIT_DIR, kitDrift, REPO_ROOT, writeKit } from '../../../deploy/build-kit.ts';
import { DEFAULT_DRAIN_MS } from '../../src/cli/start.ts';
import { isLoopback } from '../../src/admin/admin-server.ts';
import { loadRules } from '../../src/rules/load.ts';
import type { Rules } from '../../src/rules/types.ts';
import { splitHostPort } from '../../src/sidecar.ts';
import { findKubectl, readKustomizationFiles, renderKustomization, type KubeObject } from '../helpers/kustomize.ts';

const KIT = join(REPO_ROOT, KIT_DIR);

/** The schema-backed model of each kind the kit ships. */
const MODELS: Readonly<Record<string, new (data: never) => { validate(): void }>> = {
  'v1/ConfigMap': ConfigMap,
  'v1/Service': Service,
  'apps/v1/Deployment': Deployment,
  'monitoring.coreos.com/v1/PodMonitor': PodMonitor,
  'monitoring.coreos.com/v1/PrometheusRule': PrometheusRule,
};

interface Port {
  name?: string;
  containerPort: number;
}
interface Probe {
  httpGet?: { path: string; port: string | number };
}
interface Container {
  name: string;
  image: string;
  args?: string[];
  env?: { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }[];
  ports?: Port[];
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: { readOnlyRootFilesystem?: boolean; runAsNonRoot?: boolean; allowPrivilegeEscalation?: boolean };
  lifecycle?: { preStop?: { exec?: { command: string[] } } };
  volumeMounts?: { name: string; mountPath: string }[];
}
interface PodSpec {
  terminationGracePeriodSeconds?: number;
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number };
  containers: Container[];
  volumes?: { name: string; configMap?: { name: string } }[];
}

function one(objects: KubeObject[], kind: string, name?: string): KubeObject {
  const found = objects.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
  assert.equal(found.length, 1, `exactly one ${kind}${name === undefined ? '' : ` ${name}`}`);
  return found[0];
}

function flag(args: readonly string[], name: string): string | undefined {
  const at = args.indexOf(name);
  return at === -1 ? undefined : args[at + 1];
}

describe('deploy/kubernetes', () => {
  let objects: KubeObject[];
  let rules: Rules;
  let pod: PodSpec;
  let sidecar: Container;

  before(async () => {
    const rendered = await renderKustomization(KIT);
    objects = rendered.objects;
    console.log(`rendered with ${rendered.renderer}: ${objects.map((o) => `${o.kind}/${o.metadata.name}`).join(', ')}`);
    const loaded = await loadRules(join(REPO_ROOT, 'rules'));
    assert.ok(loaded.ok, loaded.ok ? '' : loaded.errors.join('\n'));
    rules = loaded.rules;
    pod = (one(objects, 'Deployment') as unknown as { spec: { template: { spec: PodSpec } } }).spec.template.spec;
    const found = pod.containers.find((c) => c.name === 'sluice');
    assert.ok(found, 'a sluice container');
    sidecar = found;
  });

  it('generated/ is what `npm run kit` writes from rules/, the alerts and the dashboard', () => {
    assert.deepEqual(kitDrift(), [], 'deploy/kubernetes/generated is stale: run npm run kit');
  });

  it('a changed alert, rule or dashboard that is not regenerated is caught', async () => {
    const root = await mkdtemp(join(tmpdir(), 'sluice-kit-'));
    try {
      for (const dir of ['rules', 'dashboards', KIT_DIR]) await cp(join(REPO_ROOT, dir), join(root, dir), { recursive: true });
      assert.deepEqual(kitDrift(root), []);
      const alerts = join(root, 'dashboards/alerts.yaml');
      await writeFile(alerts, (await readFile(alerts, 'utf8')).replace('for: 5m', 'for: 7m'));
      const rulesFile = join(root, 'rules/sluice.yaml');
      await writeFile(rulesFile, (await readFile(rulesFile, 'utf8')).replace('threshold: 200ms', 'threshold: 250ms'));
      await writeFile(join(root, 'rules/extra.yaml'), 'switch: {}\n');
      const dashboard = join(root, 'dashboards/sluice.json');
      await writeFile(dashboard, (await readFile(dashboard, 'utf8')).replace('"title": "sluice"', '"title": "sluice 2"'));
      assert.deepEqual(kitDrift(root), [
        `${GENERATED}/prometheusrule.yaml`,
        `${GENERATED}/rules/extra.yaml`,
        `${GENERATED}/rules/sluice.yaml`,
        `${GENERATED}/sluice.json`,
      ]);
      writeKit(root);
      assert.deepEqual(kitDrift(root), [], 'regenerated');
      await writeFile(join(root, KIT_DIR, GENERATED, 'rules/left-over.yaml'), 'switch: {}\n');
      assert.deepEqual(kitDrift(root), [`${GENERATED}/rules/left-over.yaml`]);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  it('read without kubectl, the same files give the same objects', (t) => {
    if (findKubectl() === null) return t.skip('no kubectl: the objects above were read directly');
    const key = (o: KubeObject): string => `${o.kind}/${o.metadata.name}`;
    const direct = new Map(readKustomizationFiles(KIT).map((o) => [key(o), o]));
    assert.deepEqual([...direct.keys()].sort(), objects.map(key).sort());
    for (const object of objects) assert.deepEqual(direct.get(key(object)), object, key(object));
  });

  it('every object validates against its published OpenAPI schema', () => {
    const kinds = objects.map((o) => `${o.apiVersion}/${o.kind}`).sort();
    assert.deepEqual(kinds, [
      'apps/v1/Deployment',
      'monitoring.coreos.com/v1/PodMonitor',
      'monitoring.coreos.com/v1/PrometheusRule',
      'v1/ConfigMap',
      'v1/ConfigMap',
      'v1/Service',
    ]);
    for (const object of objects) {
      const Model = MODELS[`${object.apiVersion}/${object.kind}`];
      assert.ok(Model, `a model for ${object.apiVersion}/${object.kind}`);
      assert.doesNotThrow(() => new Model(object as never).validate(), `${object.kind}/${object.metadata.name}`);
    }
  });

  it('the schemas do catch a broken object', () => {
    const deployment = structuredClone(one(objects, 'Deployment')) as unknown as { spec: { template: { spec: PodSpec } } };
    (deployment.spec.template.spec.containers[1].ports as unknown as { containerPort: string }[])[0].containerPort = 'http';
    assert.throws(() => new Deployment(deployment as never).validate(), /containerPort must be integer/);
    const rule = structuredClone(one(objects, 'PrometheusRule')) as unknown as { spec: { groups: { rules: { for?: string }[] }[] } };
    rule.spec.groups[0].rules[0].for = 'five minutes';
    assert.throws(() => new PrometheusRule(rule as never).validate(), /for must match pattern/);
  });

  it('the rules ConfigMap carries rules/*.yaml as they are, every one of them', async () => {
    const data = (one(objects, 'ConfigMap', 'sluice-rules') as unknown as { data: Record<string, string> }).data;
    const expected: Record<string, string> = {};
    const files = (await readdir(join(REPO_ROOT, 'rules'))).filter((name) => /\.ya?ml$/.test(name));
    for (const file of files) expected[file] = await readFile(join(REPO_ROOT, 'rules', file), 'utf8');
    assert.deepEqual(data, expected);
  });

  it('the PrometheusRule carries dashboards/alerts.yaml, the dashboard ConfigMap dashboards/sluice.json for Grafana', async () => {
    const alerts = parse(await readFile(join(REPO_ROOT, 'dashboards/alerts.yaml'), 'utf8')) as { groups: unknown[] };
    assert.deepEqual((one(objects, 'PrometheusRule') as unknown as { spec: { groups: unknown[] } }).spec.groups, alerts.groups);
    const dashboard = one(objects, 'ConfigMap', 'sluice-dashboard') as unknown as { metadata: { labels: Record<string, string> }; data: Record<string, string> };
    assert.equal(dashboard.metadata.labels.grafana_dashboard, '1');
    assert.deepEqual(dashboard.data, { 'sluice.json': await readFile(join(REPO_ROOT, 'dashboards/sluice.json'), 'utf8') });
  });

  it("the sidecar's args and ports agree with rules/sluice.yaml's server section", () => {
    const args = sidecar.args ?? [];
    assert.equal(args[0], 'start');
    const ports = new Map((sidecar.ports ?? []).map((p) => [p.name, p.containerPort]));
    const listen = splitHostPort(flag(args, '--listen') ?? rules.server.listen, 'listen');
    assert.equal(ports.get('http'), listen.port, 'the http port is where sluice listens');
    const admin = splitHostPort(flag(args, '--admin') ?? rules.server.admin, 'admin');
    assert.equal(ports.get('admin'), admin.port, 'the admin port is where the admin API listens');
    assert.ok(!isLoopback(admin.host), 'the admin port is reachable by kubelet probes and Prometheus');
    const tokenEnv = rules.server.adminTokenEnv ?? 'SLUICE_ADMIN_TOKEN';
    const token = sidecar.env?.find((e) => e.name === tokenEnv);
    assert.ok(token?.valueFrom?.secretKeyRef, `${tokenEnv} comes from a Secret (required off loopback)`);
    const rulesMount = sidecar.volumeMounts?.find((m) => m.mountPath.replace(/\/$/, '') === (flag(args, '--rules') ?? '').replace(/\/$/, ''));
    assert.ok(rulesMount, '--rules names the mounted directory');
    assert.equal(pod.volumes?.find((v) => v.name === rulesMount.name)?.configMap?.name, 'sluice-rules');
    // The stand-in member service listens where the primary cluster's endpoint points.
    const primary = new URL(rules.clusters.get('primary')?.endpoints[0] ?? '');
    const standIn = pod.containers.find((c) => c.name === 'member-service');
    assert.ok(standIn?.args?.some((arg) => arg.includes(`${primary.hostname}:${primary.port}`)), 'stand-in on the primary endpoint');
  });

  it('probes on /healthz and /readyz, non-root, read-only root filesystem, resources, grace above the drain', () => {
    assert.deepEqual(sidecar.livenessProbe?.httpGet, { path: '/healthz', port: 'admin' });
    assert.deepEqual(sidecar.readinessProbe?.httpGet, { path: '/readyz', port: 'admin' });
    for (const container of pod.containers) {
      assert.equal(container.securityContext?.readOnlyRootFilesystem, true, `${container.name}: read-only root`);
      assert.equal(container.securityContext?.allowPrivilegeEscalation, false, container.name);
      assert.ok(container.resources?.requests?.cpu && container.resources.requests.memory && container.resources.limits?.memory, `${container.name}: resources`);
    }
    assert.equal(pod.securityContext?.runAsNonRoot, true);
    assert.ok((pod.securityContext?.runAsUser ?? 0) > 0, 'a numeric non-root user the kubelet can check');
    const drainMs = Number(sidecar.env?.find((e) => e.name === 'SLUICE_DRAIN_MS')?.value ?? DEFAULT_DRAIN_MS);
    const preStop = sidecar.lifecycle?.preStop?.exec?.command;
    const preStopS = preStop?.[0] === 'sleep' ? Number(preStop[1]) : 0;
    const grace = pod.terminationGracePeriodSeconds ?? 30;
    console.log(`grace ${grace} s > preStop ${preStopS} s + drain ${drainMs / 1000} s`);
    assert.ok(grace > preStopS + drainMs / 1000, 'the kubelet waits for the drain to finish');
  });

  it('the Service and the PodMonitor reach the named ports of the pods they select', () => {
    const deployment = one(objects, 'Deployment') as unknown as { spec: { template: { metadata: { labels: Record<string, string> } } } };
    const podLabels = deployment.spec.template.metadata.labels;
    const names = new Set(sidecar.ports?.map((p) => p.name));
    const selects = (selector: Record<string, string>): boolean => Object.entries(selector).every(([k, v]) => podLabels[k] === v);
    const service = one(objects, 'Service') as unknown as { spec: { selector: Record<string, string>; ports: { targetPort: string }[] } };
    assert.ok(selects(service.spec.selector), 'the Service selects the pods');
    for (const port of service.spec.ports) assert.ok(names.has(port.targetPort), `Service targets ${port.targetPort}`);
    const monitor = one(objects, 'PodMonitor') as unknown as {
      spec: { selector: { matchLabels: Record<string, string> }; podMetricsEndpoints: { port: string; path: string; authorization?: { credentials?: { name: string; key: string } } }[] };
    };
    assert.ok(selects(monitor.spec.selector.matchLabels), 'the PodMonitor selects the pods');
    const [endpoint] = monitor.spec.podMetricsEndpoints;
    assert.equal(endpoint.port, 'admin');
    assert.equal(endpoint.path, '/metrics');
    if (!rules.server.metricsPublic) {
      const tokenRef = sidecar.env?.find((e) => e.name === (rules.server.adminTokenEnv ?? 'SLUICE_ADMIN_TOKEN'))?.valueFrom?.secretKeyRef;
      assert.deepEqual(endpoint.authorization?.credentials, tokenRef, 'Prometheus sends the admin token /metrics wants');
    }
  });
});
