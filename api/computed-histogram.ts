import type { Metric, Registry } from 'prom-client';

/** One label set's histogram, counted elsewhere (here: by the engine database). */
export interface HistogramCounts<L extends string> {
  labels: Record<L, string>;
  /** Cumulative: observations at or under each bound of `buckets`, in the same order. */
  buckets: number[];
  count: number;
  sum: number;
}

/**
 * Registers a Prometheus histogram whose bucket counts are loaded at scrape time instead of
 * observed one value at a time: prom-client's Histogram only grows through observe(), and
 * re-observing every row on each scrape would cost as much as the rows. Exposed in the same
 * text format (`_bucket{le}`, `_sum`, `_count`) as any other histogram.
 */
export function registerComputedHistogram<L extends string>(
  registry: Registry,
  config: {
    name: string;
    help: string;
    labelNames: readonly L[];
    buckets: readonly number[];
    load: () => Promise<HistogramCounts<L>[]>;
  },
): void {
  const { name, help, buckets } = config;
  const metric = {
    name,
    help,
    type: 'histogram',
    aggregator: 'sum',
    labelNames: config.labelNames,
    collect: () => undefined,
    reset: () => undefined,
    async get() {
      const values = (await config.load()).flatMap((row) => [
        ...buckets.map((le, i) => ({
          metricName: `${name}_bucket`,
          labels: { ...row.labels, le },
          value: row.buckets[i] ?? 0,
        })),
        { metricName: `${name}_bucket`, labels: { ...row.labels, le: '+Inf' }, value: row.count },
        { metricName: `${name}_sum`, labels: row.labels, value: row.sum },
        { metricName: `${name}_count`, labels: row.labels, value: row.count },
      ]);
      return { name, help, type: 'histogram', aggregator: 'sum', values };
    },
  };
  // The registry reads only name, type and get() (and reset() on resetMetrics()).
  registry.registerMetric(metric as unknown as Metric);
}
