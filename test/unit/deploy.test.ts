import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Registry } from 'prom-client';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { createMetricsRegistry } from '../../api/metrics';
import { createDb } from '../../db';
import { TEMPORAL_SDK_METRICS, createWorkerMetrics } from '../../workers/metrics';

const deploy = (...parts: string[]) => path.join(__dirname, '../../deploy', ...parts);
const dashboard = JSON.parse(
  readFileSync(deploy('grafana', 'rotor-dashboard.json'), 'utf8'),
) as unknown;
const alerts = parse(readFileSync(deploy('prometheus', 'alerts.yml'), 'utf8')) as {
  groups: { name: string; rules: { alert: string; expr: string; for?: string }[] }[];
};
const scrape = parse(readFileSync(deploy('prometheus', 'prometheus.yml'), 'utf8')) as {
  rule_files: string[];
  scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[];
};
const compose = parse(readFileSync(path.join(__dirname, '../../docker-compose.yml'), 'utf8'), {
  merge: true,
}) as { services: Record<string, { environment?: Record<string, string> }> };

// The registries the processes really serve: built, never scraped (no database is touched).
const db = createDb('postgresql://unused@127.0.0.1:1/unused', { max: 1 });
const registries: Registry[] = [createMetricsRegistry(db), createWorkerMetrics().registry];

interface Known {
  type: string;
  labels: Set<string> | null;
}
/** Every metric name the code exposes, with its type and labels (null: the SDK's, unknown). */
const known = new Map<string, Known>();
for (const registry of registries) {
  for (const metric of registry.getMetricsAsArray()) {
    const { labelNames = [] } = metric as { labelNames?: string[] };
    known.set(metric.name, { type: String(metric.type), labels: new Set(labelNames) });
  }
}
for (const name of TEMPORAL_SDK_METRICS) known.set(name, { type: 'sdk', labels: null });

/** Labels Prometheus adds to every series it scrapes. */
const TARGET_LABELS = ['job', 'instance'];
const KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right']);
const OPERATORS = new Set(['and', 'or', 'unless', 'bool', 'offset']);
// Aggregations may put `by (...)` between their name and their parentheses.
const AGGREGATIONS = new Set(
  'sum min max avg group stddev stdvar count count_values bottomk topk quantile'.split(' '),
);

/** The series a PromQL expression reads: names (histogram suffixes resolved) and labels used. */
function seriesIn(expr: string): { metric: string; raw: string; labels: string[] }[] {
  const found: { metric: string; raw: string; labels: string[] }[] = [];
  const text = expr.replace(/"(?:[^"\\]|\\.)*"/g, '""').replace(/\[[^\]]*\]/g, '');
  for (const m of text.matchAll(/([a-zA-Z_:][\w:]*)\s*(\{[^}]*\})?(\s*\()?/g)) {
    const [, name = '', matchers = '', call] = m;
    const before = text.slice(0, m.index).trimEnd();
    if (call || KEYWORDS.has(name) || OPERATORS.has(name) || AGGREGATIONS.has(name)) continue;
    // A label list of by (...) / without (...), not a metric.
    if (/\b(by|without|on|ignoring)\s*\([^)]*$/.test(before)) continue;
    const base = name.replace(/_(bucket|sum|count)$/, '');
    const isHistogramPart = base !== name && known.has(base) && !known.has(name);
    found.push({
      metric: isHistogramPart ? base : name,
      raw: name,
      labels: [...matchers.matchAll(/(\w+)\s*(?:=~|!~|!=|=)/g)].map((l) => l[1] ?? ''),
    });
  }
  return found;
}

function groupingLabels(expr: string): string[] {
  return [...expr.matchAll(/\b(?:by|without)\s*\(([^)]*)\)/g)].flatMap((m) =>
    (m[1] ?? '')
      .split(',')
      .map((l) => l.trim())
      .filter(Boolean),
  );
}

function exprsIn(node: unknown): string[] {
  if (Array.isArray(node)) return node.flatMap(exprsIn);
  if (node === null || typeof node !== 'object') return [];
  return Object.entries(node).flatMap(([k, v]) =>
    k === 'expr' && typeof v === 'string' ? [v] : exprsIn(v),
  );
}

const dashboardExprs = exprsIn(dashboard);
const alertExprs = alerts.groups.flatMap((g) => g.rules.map((r) => r.expr));

/** Problems with one expression: unknown metrics, labels the metric does not have. */
function problems(expr: string): string[] {
  const out: string[] = [];
  const series = seriesIn(expr);
  if (series.length === 0) out.push(`${expr}: reads no metric`);
  const allowed = new Set(TARGET_LABELS);
  let anyUnknownLabels = false;
  for (const s of series) {
    const k = known.get(s.metric);
    if (!k) {
      out.push(`${expr}: ${s.raw} is not a metric Rotor exposes`);
      continue;
    }
    if (s.raw !== s.metric) allowed.add('le');
    if (k.labels === null) {
      anyUnknownLabels = true;
      continue;
    }
    for (const l of k.labels) allowed.add(l);
    for (const l of s.labels)
      if (!k.labels.has(l) && !TARGET_LABELS.includes(l) && !(l === 'le' && s.raw !== s.metric))
        out.push(`${expr}: ${s.metric} has no label ${l}`);
  }
  if (!anyUnknownLabels)
    for (const l of groupingLabels(expr))
      if (!allowed.has(l)) out.push(`${expr}: groups by ${l}, which no metric in it has`);
  return out;
}

describe('deploy/ dashboards and alerts', () => {
  afterAll(() => db.destroy());

  it('parse: the Grafana dashboard as JSON, the Prometheus files as YAML', () => {
    expect(dashboard).toMatchObject({ title: 'Rotor', uid: 'rotor-overview' });
    expect(dashboardExprs.length).toBeGreaterThan(10);
    expect(alerts.groups.length).toBeGreaterThan(0);
    expect(scrape.rule_files).toContain('alerts.yml');
    expect(scrape.scrape_configs.map((c) => c.job_name)).toEqual(['rotor-api', 'rotor-worker']);
  });

  it('scrape the API and the worker where docker-compose.yml serves them', () => {
    const targets = Object.fromEntries(
      scrape.scrape_configs.map((c) => [c.job_name, c.static_configs.flatMap((s) => s.targets)]),
    );
    const api = compose.services['rotor-api']?.environment ?? {};
    const worker = compose.services['rotor-worker']?.environment ?? {};
    expect(targets['rotor-api']).toEqual([`rotor-api:${api.API_PORT}`]);
    expect(targets['rotor-worker']).toEqual([`rotor-worker:${worker.ROTOR_WORKER_METRICS_PORT}`]);
    expect(worker.ROTOR_WORKER_METRICS_HOST).toBe('0.0.0.0');
  });

  it('alert on failed rotations, overdue secrets and stuck approvals', () => {
    const names = alerts.groups.flatMap((g) => g.rules.map((r) => r.alert));
    expect(names).toEqual(
      expect.arrayContaining(['RotationFailed', 'SecretsOverdue', 'ApprovalsStuck']),
    );
    for (const rule of alerts.groups.flatMap((g) => g.rules)) {
      expect(rule.for ?? '15m', rule.alert).toMatch(/^\d+[smhd]$/);
    }
  });

  it('use only metrics the API and worker registries expose, with labels those metrics have', () => {
    expect([...dashboardExprs, ...alertExprs].flatMap(problems)).toEqual([]);
  });

  it('show every metric the engine promises, on the dashboard', () => {
    const used = new Set(dashboardExprs.flatMap((e) => seriesIn(e).map((s) => s.metric)));
    for (const name of [
      'rotations_total',
      'rotation_duration_seconds',
      'approvals_pending',
      'secrets_overdue',
      'secrets_by_state',
      'notifications_failed_total',
      'vault_request_duration_seconds',
    ]) {
      expect(known.has(name), `${name} is exposed`).toBe(true);
      expect(used.has(name), `${name} is on the dashboard`).toBe(true);
    }
    expect([...used].some((n) => n.startsWith('temporal_'))).toBe(true);
  });

  it('would catch a metric that does not exist', () => {
    expect(problems('sum(rate(rotations_failed_total[5m]))')).toHaveLength(1);
    expect(problems('max by (tenant) (secrets_overdue)')).toHaveLength(1);
    expect(problems('rotations_total{colour="red"}')).toHaveLength(1);
    expect(
      problems(
        'histogram_quantile(0.9, sum by (le) (rate(vault_request_duration_seconds_bucket[5m])))',
      ),
    ).toEqual([]);
  });
});
