// Statistics charts (uPlot, served by the engine): drawn from the very CSV the page's "Download
// CSV" link gives, so what a chart shows is what kastat3 prints for the same filters. The data of
// each chart is kept on window.kaployCharts for whoever wants to check it against the rows.
const FIELDS = [
  'hostname',
  'start',
  'step1_duration',
  'step2_duration',
  'step3_duration',
  'retry_step1',
  'retry_step2',
  'retry_step3',
];
const charts = document.getElementById('charts');
window.kaployCharts = {};
if (charts && window.uPlot) draw(charts);

async function draw(box) {
  const clusters = JSON.parse(document.getElementById('clusters').textContent);
  const q = new URLSearchParams(box.dataset.query);
  q.set('fields', FIELDS.join(','));
  q.delete('header');
  const res = await fetch(`/ui/stats.csv?${q}`, { credentials: 'same-origin' });
  if (!res.ok) return note(box, `statistics could not be read (${res.status})`);
  const rows = parseCsv(await res.text())
    .filter((r) => r.length === FIELDS.length)
    .map((r) => Object.fromEntries(FIELDS.map((f, i) => [f, f === 'hostname' ? r[i] : Number(r[i])])))
    .sort((a, b) => a.start - b.start);
  if (rows.length === 0) return note(box, 'No information is available');
  const byCluster = new Map();
  for (const r of rows) {
    const c = clusters[r.hostname] ?? '(removed nodes)';
    if (!byCluster.has(c)) byCluster.set(c, []);
    byCluster.get(c).push(r);
  }
  for (const [cluster, rs] of [...byCluster].sort()) {
    chart(box, `durations-${cluster}`, `Macro-step durations on ${cluster} (s)`, rs, [
      ['step1_duration', 'step 1', '#1565c0'],
      ['step2_duration', 'step 2', '#6a1b9a'],
      ['step3_duration', 'step 3', '#2e7d32'],
    ]);
  }
  chart(box, 'retries', 'Retries per node and operation', rows, [
    ['retry_step1', 'step 1', '#1565c0'],
    ['retry_step2', 'step 2', '#6a1b9a'],
    ['retry_step3', 'step 3', '#2e7d32'],
  ]);
}

function chart(box, id, title, rows, series) {
  const data = [rows.map((r) => r.start), ...series.map(([f]) => rows.map((r) => r[f]))];
  const entry = { title, data, hosts: rows.map((r) => r.hostname) };
  window.kaployCharts[id] = entry;
  const fig = document.createElement('figure');
  fig.id = `chart-${id}`;
  fig.dataset.rows = String(rows.length);
  const cap = document.createElement('figcaption');
  cap.textContent = title;
  fig.append(cap);
  box.append(fig);
  new window.uPlot(
    {
      width: 560,
      height: 260,
      scales: { x: { time: true, range: () => timeRange(data[0]) } },
      // The time axis as drawn, for whoever checks it (uPlot sets its scales after construction).
      hooks: {
        setScale: [
          (u, key) => {
            if (key === 'x') entry.xRange = [u.scales.x.min, u.scales.x.max];
          },
        ],
      },
      series: [
        {},
        ...series.map(([, label, stroke]) => ({
          label,
          stroke,
          paths: () => null,
          points: { show: true, size: 6, fill: stroke },
        })),
      ],
      axes: [{}, { size: 50 }],
    },
    data,
    fig,
  );
}

/**
 * The time axis: the rows' span with 5% on each side, an hour each side of a single instant. From
 * the data, not uPlot's range: for a single instant uPlot first widens it to 86400/ms units, 1,000
 * days for a time axis in seconds (one deployment drew Apr 2027 to Aug 2029).
 */
function timeRange(xs) {
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (const x of xs) {
    if (x < min) min = x;
    if (x > max) max = x;
  }
  const pad = Math.max((max - min) * 0.05, min === max ? 3600 : 60);
  return [min - pad, max + pad];
}

function note(box, text) {
  const p = document.createElement('p');
  p.textContent = text;
  box.append(p);
}

/** RFC 4180 records (the export quotes only fields that need it). */
function parseCsv(text) {
  const out = [];
  let row = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n') {
      row.push(field);
      out.push(row);
      row = [];
      field = '';
    } else if (c !== '\r') field += c;
  }
  if (field !== '' || row.length > 0) {
    row.push(field);
    out.push(row);
  }
  return out;
}
