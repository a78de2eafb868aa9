import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Figure } from './measure';
import { latestResults, RESULTS_DIR, verdict, type Results } from './results';

/**
 * bench/results/chart.svg: one bar per ratio, on a log scale centred on 1× (parity with the baseline), with
 * each target drawn across its bar. Green: target met; red: missed; grey: no target; orange: the run did not
 * count (see the figure's note). Hand-written SVG: nothing to install, readable in any browser or on GitHub.
 */

const WIDTH = 1000;
const LABEL = 480;
const ROW = 34;
const TOP = 56;
const PLOT = WIDTH - LABEL - 90;
const COLOURS = { met: '#2e7d32', missed: '#c62828', invalid: '#ef6c00', '': '#78909c' } as Record<string, string>;

const escape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const ratioText = (r: number) => (r >= 10 ? `${r.toFixed(0)}×` : r >= 1 ? `${r.toFixed(1)}×` : `${r.toFixed(2)}×`);

export function renderChart(results: Results): string {
  const rows = results.figures.filter((f): f is Figure & { ratio: number } => typeof f.ratio === 'number' && Number.isFinite(f.ratio) && f.ratio > 0);
  const logs = rows.flatMap((f) => [Math.log10(f.ratio), ...(typeof f.target === 'number' ? [Math.log10(f.target)] : [])]);
  // Whole decades either side of 1×, at least 0.1× … 10×.
  const low = Math.min(-1, Math.floor(Math.min(...logs, 0)));
  const high = Math.max(1, Math.ceil(Math.max(...logs, 0)));
  const x = (ratio: number) => LABEL + ((Math.log10(ratio) - low) / (high - low)) * PLOT;
  const height = TOP + rows.length * ROW + 48;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif" font-size="13">`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="16" y="24" font-size="16" font-weight="600">Towline benchmarks: ratio to a baseline measured in the same run</text>`,
    `<text x="16" y="43" fill="#555">${escape(`${results.date} · ${results.machine.cpus} CPUs · Node ${results.machine.node} · ${results.git.commit?.slice(0, 7) ?? ''}${results.git.dirty ? ' (dirty)' : ''} · log scale · | target`)}</text>`,
  ];
  for (let decade = low; decade <= high; decade++) {
    const gx = x(10 ** decade);
    out.push(`<line x1="${gx}" y1="${TOP - 6}" x2="${gx}" y2="${TOP + rows.length * ROW}" stroke="${decade === 0 ? '#333' : '#ddd'}" stroke-width="${decade === 0 ? 1.5 : 1}"/>`);
    out.push(`<text x="${gx}" y="${TOP + rows.length * ROW + 18}" text-anchor="middle" fill="#555">${ratioText(10 ** decade)}</text>`);
  }
  rows.forEach((f, i) => {
    const y = TOP + i * ROW;
    const colour = COLOURS[verdict(f)] ?? COLOURS[''];
    const one = x(1);
    const end = x(f.ratio);
    const label = `${f.name}${f.better === 'lower' ? ' (lower is better)' : ''}`;
    // About 7 px a character at this size: long names are cut rather than run into the plot.
    const room = Math.floor((LABEL - 26) / 7);
    out.push(`<text x="${LABEL - 10}" y="${y + ROW / 2 + 4}" text-anchor="end">${escape(label.length > room ? `${label.slice(0, room - 1)}…` : label)}</text>`);
    out.push(`<rect x="${Math.min(one, end)}" y="${y + 7}" width="${Math.max(1, Math.abs(end - one))}" height="${ROW - 14}" fill="${colour}" rx="2"><title>${escape(`${f.name}: ${ratioText(f.ratio)}${f.note ? ` — ${f.note}` : ''}`)}</title></rect>`);
    const after = Math.max(one, end, typeof f.target === 'number' ? x(f.target) : 0);
    out.push(`<text x="${after + 6}" y="${y + ROW / 2 + 4}" fill="${colour}" font-weight="600">${ratioText(f.ratio)}${verdict(f) === 'invalid' ? ' (invalid)' : ''}</text>`);
    if (typeof f.target === 'number') {
      const tx = x(f.target);
      out.push(`<line x1="${tx}" y1="${y + 3}" x2="${tx}" y2="${y + ROW - 3}" stroke="#111" stroke-width="2.5"><title>target ${f.better === 'lower' ? '≤' : '≥'} ${f.target}×</title></line>`);
    }
  });
  const legendY = height - 12;
  let lx = 16;
  for (const [name, colour] of [['target met', COLOURS.met], ['missed', COLOURS.missed], ['no target', COLOURS['']], ['run did not count', COLOURS.invalid]]) {
    out.push(`<rect x="${lx}" y="${legendY - 10}" width="12" height="12" fill="${colour}"/><text x="${lx + 17}" y="${legendY}" fill="#333">${name}</text>`);
    lx += 30 + name.length * 7;
  }
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

export function writeChart(results: Results): string {
  const file = join(RESULTS_DIR, 'chart.svg');
  writeFileSync(file, renderChart(results));
  return file;
}

// `npm run bench:chart`: the chart of the latest results, without running anything.
if (require.main === module) {
  console.log(`wrote ${writeChart(latestResults())}`);
}
