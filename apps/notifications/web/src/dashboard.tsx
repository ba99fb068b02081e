import { useEffect, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';
import { Channels } from '@choreo/contracts';
import type { RealtimeClient } from '@choreo/realtime-client';
import { applyAggregateSnapshot, applyResult, byGroup, RuleWindows, series } from './aggregate-state';
import { timeAxisRange, timeTickLabel } from './time-axis';

/** The shipped rules the dashboard charts (aggregations/orders.yaml, entities/product.yaml). */
const CHARTS = [
  { rule: 'orders_per_minute', title: 'Orders per minute', measure: 'orders', kind: 'time', windowS: 60 },
  { rule: 'revenue_5m', title: 'Revenue per 5 minutes', measure: 'revenue', kind: 'time', windowS: 300 },
  {
    rule: 'delivery_time_5m',
    title: 'Average delivery time (s)',
    measure: 'average_delivery_s',
    kind: 'time',
    windowS: 300,
  },
  { rule: 'products_per_category', title: 'Products per category', measure: 'products', kind: 'groups' },
] as const;

type Chart = (typeof CHARTS)[number];

/** Live charts of the shipped aggregates, each from its `aggregates:<rule>` channel. */
export function Dashboard(props: { client: RealtimeClient; token: string }) {
  return (
    <section class="dashboard">
      <h2>Dashboard</h2>
      <div class="charts">
        {CHARTS.map((chart) => (
          <RuleChart key={chart.rule} chart={chart} client={props.client} token={props.token} />
        ))}
      </div>
    </section>
  );
}

function RuleChart({ chart, client, token }: { chart: Chart; client: RealtimeClient; token: string }) {
  const [windows, setWindows] = useState<RuleWindows>(new Map());
  const [problem, setProblem] = useState<string>();
  const tokenRef = useRef(token);
  tokenRef.current = token;

  useEffect(() => {
    const subscription = client.subscribe(Channels.aggregates(chart.rule), {
      token: tokenRef.current || undefined,
      onPublication: (frame) => setWindows((held) => applyResult(held, frame.data)),
      onSnapshot: (frame) => setWindows((held) => applyAggregateSnapshot(held, frame.data)),
      onError: (error) => setProblem(`${error.code}: ${error.message}`),
    });
    return () => subscription.unsubscribe();
  }, [client, chart.rule]);

  const [xs, ys] = series(windows, chart.measure, Infinity);
  const groups = byGroup(windows, chart.measure);
  const values =
    chart.kind === 'time' ? ys.filter((y): y is number => y !== null) : groups.map((g) => g.value);
  // The latest window (or the sum over the groups), and the sum over every window held.
  const total = values.length > 0 ? values.reduce((sum, v) => sum + v, 0) : undefined;
  const latest = chart.kind === 'time' ? values.at(-1) : total;
  return (
    <figure class="chart" data-rule={chart.rule} data-windows={windows.size} data-total={total ?? ''}>
      <figcaption>
        {chart.title}
        <b class="latest" data-latest={latest ?? ''}>
          {latest === undefined ? '—' : formatNumber(latest)}
        </b>
      </figcaption>
      {problem && <p class="error">{problem}</p>}
      {chart.kind === 'time' ? (
        <TimeChart xs={xs.slice(-60)} ys={ys.slice(-60)} label={chart.measure} windowS={chart.windowS} />
      ) : (
        <Bars rows={groups} />
      )}
    </figure>
  );
}

function formatNumber(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(2);
}

/** A uPlot line chart, created once and fed new data on every change. */
function TimeChart(props: { xs: number[]; ys: (number | null)[]; label: string; windowS: number }) {
  const { xs, ys, label, windowS } = props;
  const host = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot>();
  useEffect(() => {
    if (!host.current) return;
    plot.current = new uPlot(
      {
        width: 300,
        height: 140,
        legend: { show: false },
        cursor: { show: false },
        scales: { x: { time: true, range: (self) => timeAxisRange(self.data[0], windowS) } },
        series: [
          {},
          { label, stroke: '#2563eb', width: 2, fill: 'rgba(37,99,235,0.12)', points: { size: 6 } },
        ],
        // At least 60 px between time ticks, so labels like 19:45:30 never run into each other.
        axes: [{ size: 30, space: 60, values: (_, splits) => splits.map(timeTickLabel) }, { size: 40 }],
      },
      [[], []],
      host.current,
    );
    return () => plot.current?.destroy();
  }, [label, windowS]);
  useEffect(() => plot.current?.setData([xs, ys]), [xs.join(), ys.join()]);
  return <div ref={host} class="plot" />;
}

function Bars({ rows }: { rows: { label: string; value: number }[] }) {
  const max = Math.max(1, ...rows.map((r) => r.value));
  if (rows.length === 0) return <p class="empty">no values yet</p>;
  return (
    <ul class="bars">
      {rows.map((row) => (
        <li key={row.label} data-group={row.label} data-value={row.value}>
          <span class="label">{row.label}</span>
          <span class="bar" style={{ width: `${(100 * row.value) / max}%` }} />
          <span class="value">{formatNumber(row.value)}</span>
        </li>
      ))}
    </ul>
  );
}
