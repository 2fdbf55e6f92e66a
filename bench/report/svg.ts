// A hand-written SVG chart of the ratios: throughput relative to direct and to HAProxy, CPU per unit of work relative to HAProxy.
import type { LoadSpec } from '../load/loads.js';
import type { Summary } from './summary.js';

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#17becf'];
const W = 960;
const PANEL_H = 300;
const M = { left: 60, right: 20, top: 40, bottom: 50 };
const TITLE_H = 24;

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

interface Series {
  readonly name: string;
  readonly label: string;
  readonly color: string;
}

function niceMax(v: number): number {
  if (!Number.isFinite(v) || v <= 0) return 1;
  const steps = [0.5, 1, 1.5, 2, 3, 4, 5, 6, 8, 10, 15, 20, 30, 50, 100];
  return steps.find((s) => s >= v * 1.08) ?? Math.ceil(v);
}

function panel(y0: number, title: string, groups: readonly string[], series: readonly Series[], value: (g: string, s: string) => number): string {
  const plotW = W - M.left - M.right;
  const plotH = PANEL_H - M.top - M.bottom;
  const top = y0 + M.top;
  const vals = groups.flatMap((g) => series.map((s) => value(g, s.name))).filter((v) => Number.isFinite(v));
  const yMax = niceMax(Math.max(1, ...vals));
  const y = (v: number): number => top + plotH - (v / yMax) * plotH;
  const parts: string[] = [`<text x="${M.left}" y="${y0 + 22}" font-size="15" font-weight="bold">${esc(title)}</text>`];
  const ticks = 5;
  for (let i = 0; i <= ticks; i++) {
    const v = (yMax / ticks) * i;
    parts.push(`<line x1="${M.left}" x2="${W - M.right}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="#e5e5e5"/>`);
    parts.push(`<text x="${M.left - 6}" y="${(y(v) + 4).toFixed(1)}" font-size="11" text-anchor="end">${v.toFixed(yMax < 3 ? 1 : 0)}×</text>`);
  }
  parts.push(`<line x1="${M.left}" x2="${W - M.right}" y1="${y(1).toFixed(1)}" y2="${y(1).toFixed(1)}" stroke="#333" stroke-dasharray="4 3"/>`);
  const groupW = plotW / Math.max(1, groups.length);
  const barW = Math.min(28, (groupW * 0.8) / Math.max(1, series.length));
  groups.forEach((g, gi) => {
    const gx = M.left + gi * groupW + (groupW - barW * series.length) / 2;
    series.forEach((s, si) => {
      const v = value(g, s.name);
      const x = gx + si * barW;
      if (!Number.isFinite(v)) {
        parts.push(`<text x="${(x + barW / 2).toFixed(1)}" y="${(top + plotH - 4).toFixed(1)}" font-size="9" text-anchor="middle" fill="#999">n/a</text>`);
        return;
      }
      const h = top + plotH - y(v);
      parts.push(`<rect x="${x.toFixed(1)}" y="${y(v).toFixed(1)}" width="${(barW - 2).toFixed(1)}" height="${h.toFixed(1)}" fill="${s.color}"><title>${esc(`${s.label}, ${g}: ${v.toFixed(2)}×`)}</title></rect>`);
      parts.push(`<text x="${(x + barW / 2 - 1).toFixed(1)}" y="${(y(v) - 3).toFixed(1)}" font-size="9" text-anchor="middle">${v.toFixed(2)}</text>`);
    });
    parts.push(`<text x="${(M.left + gi * groupW + groupW / 2).toFixed(1)}" y="${(top + plotH + 18).toFixed(1)}" font-size="12" text-anchor="middle">${esc(g)}</text>`);
  });
  return parts.join('\n');
}

export function svgChart(title: string, loads: readonly LoadSpec[], summaries: readonly Summary[], labels: ReadonlyMap<string, string>): string {
  const configs = [...new Set(summaries.map((s) => s.config))].filter((c) => c !== 'direct');
  const series: Series[] = configs.map((name, i) => ({ name, label: labels.get(name) ?? name, color: COLORS[i % COLORS.length]! }));
  const get = (load: string, config: string): Summary | undefined => summaries.find((s) => s.load === load && s.config === config);
  // Fixed-rate loads offer the same rate to everyone: their throughput ratio says nothing, their CPU ratio does.
  const closed = loads.filter((l) => l.rate === undefined && summaries.some((s) => s.load === l.name)).map((l) => l.name);
  const all = loads.filter((l) => summaries.some((s) => s.load === l.name)).map((l) => l.name);
  const legendY = TITLE_H + 3 * PANEL_H;
  const legend = series
    .map((s, i) => {
      const x = M.left + (i % 4) * 220;
      const y = legendY + Math.floor(i / 4) * 20;
      return `<rect x="${x}" y="${y}" width="12" height="12" fill="${s.color}"/><text x="${x + 18}" y="${y + 11}" font-size="12">${esc(s.label)}</text>`;
    })
    .join('\n');
  const height = legendY + Math.ceil(series.length / 4) * 20 + 30;
  return `<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${height}" viewBox="0 0 ${W} ${height}" font-family="sans-serif">
<rect width="100%" height="100%" fill="white"/>
<text x="${W / 2}" y="18" font-size="13" text-anchor="middle" fill="#555">${esc(title)}</text>
${panel(TITLE_H, 'Throughput relative to direct (higher is better)', closed, series, (g, s) => get(g, s)?.ratioToDirect ?? NaN)}
${panel(TITLE_H + PANEL_H, 'Throughput relative to the HAProxy pair (higher is better)', closed, series.filter((x) => x.name !== 'haproxy'), (g, s) => get(g, s)?.ratioToHaproxy ?? NaN)}
${panel(TITLE_H + 2 * PANEL_H, 'Proxy CPU per request (TCP: per GiB) relative to HAProxy (lower is better)', all, series, (g, s) => get(g, s)?.cpuRatioToHaproxy ?? NaN)}
${legend}
<text x="${M.left}" y="${height - 8}" font-size="10" fill="#777">Medians across rounds; dashed line = 1×.</text>
</svg>
`;
}
