// The live experiment page: polls /api/page for new samples of every arm's running totals and draws the
// charts as SVG itself (no chart library, no CDN: the page works wherever the metrics sink runs).
'use strict';

const MAX_SAMPLES = 900;        // ~15 minutes at the default 1 s sampling
const RATE_WINDOW = 5;          // samples over which throughput and traffic share are averaged
const ACCURACY_WINDOW = 30;     // samples over which accuracy is computed (labels arrive later and in bursts)
const MIN_JOINED_IN_WINDOW = 5; // fewer labelled predictions than this in a window leave a gap, not a jumpy point
const PALETTE = ['#2f6fde', '#e0672b', '#1f9d6b', '#a24bd1', '#c9a000', '#d23d6a', '#188ea8', '#7a7f8c'];
const SVG = 'http://www.w3.org/2000/svg';

const IDLE_AFTER_SAMPLES = 20;  // no new prediction for this many sampling intervals: the stream is idle, not live

const state = { samples: [], lastT: 0, intervalMs: 1000, latencyWindowSamples: 10, colors: new Map(), failures: 0, lastChange: { at: 0, predictions: -1 } };

function armKey(experiment, arm, shadow) { return experiment + '\u0000' + arm + '\u0000' + (shadow ? 's' : 'p'); }

function colorOf(key) {
  if (!state.colors.has(key)) {
    state.colors.set(key, PALETTE[state.colors.size % PALETTE.length]);
  }
  return state.colors.get(key);
}

function fmtInt(n) { return Math.round(n).toLocaleString('en-US'); }
function fmtNum(x) { return x.toLocaleString('en-US', { maximumFractionDigits: Math.abs(x) >= 100 ? 0 : 2 }); }
function fmtPct(x) { return (x * 100).toFixed(1) + '%'; }
// A window of n samples in words, e.g. "last 5 s" at the default 1 s sampling.
function seconds(n) { const s = n * state.intervalMs / 1000; return 'last ' + (s >= 10 || Number.isInteger(s) ? s.toFixed(0) : s.toFixed(1)) + ' s'; }
function fmtMs(x) { return x >= 100 ? x.toFixed(0) + ' ms' : x >= 10 ? x.toFixed(1) + ' ms' : x.toFixed(2) + ' ms'; }
function el(tag, attrs, text) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}
function svgEl(tag, attrs) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  return e;
}

async function poll() {
  try {
    const response = await fetch('/api/page?since=' + state.lastT, { cache: 'no-store' });
    if (!response.ok) throw new Error('HTTP ' + response.status);
    const data = await response.json();
    state.intervalMs = data.intervalMs;
    state.latencyWindowSamples = data.latencyWindowSamples || state.latencyWindowSamples;
    for (const s of data.samples) {
      if (s.t > state.lastT) { state.samples.push(s); state.lastT = s.t; }
    }
    if (state.samples.length > MAX_SAMPLES) state.samples.splice(0, state.samples.length - MAX_SAMPLES);
    state.failures = 0;
    render(data);
    // Live while predictions keep coming; once they stop (the stream ended or paused), say so and since when.
    const now = Date.now();
    if (data.summary.predictions !== state.lastChange.predictions) state.lastChange = { at: now, predictions: data.summary.predictions };
    if (data.summary.predictions > 0 && now - state.lastChange.at >= IDLE_AFTER_SAMPLES * state.intervalMs) {
      setStatus('idle', 'idle · no new prediction since ' + new Date(state.lastChange.at).toLocaleTimeString('en-GB'));
    } else {
      setStatus('live', 'live · updated ' + new Date(data.summary.updated).toLocaleTimeString('en-GB'));
    }
  } catch (e) {
    state.failures++;
    setStatus('stale', 'cannot reach the metrics sink (' + e.message + '), retrying');
  }
  setTimeout(poll, Math.max(500, state.intervalMs));
}

function setStatus(kind, text) {
  document.getElementById('status').className = 'status ' + kind;
  document.getElementById('status-text').textContent = text;
}

// For one arm, the value of the running totals `back` samples before index i (or the oldest one we have).
function series(experiment) {
  const byKey = new Map();
  state.samples.forEach((s, i) => {
    for (const a of s.arms) {
      if (a.experiment !== experiment) continue;
      const key = armKey(a.experiment, a.arm, a.shadow);
      if (!byKey.has(key)) byKey.set(key, { arm: a.arm, shadow: a.shadow, points: [] });
      byKey.get(key).points.push({ t: s.t, i, a });
    }
  });
  return byKey;
}

function windowed(points, window, f) {
  const out = [];
  for (let j = 1; j < points.length; j++) {
    const from = points[Math.max(0, j - window)];
    const v = f(from, points[j]);
    out.push([points[j].t, v]);
  }
  return out;
}

function render(data) {
  const totals = document.getElementById('totals');
  const s = data.summary;
  totals.replaceChildren(...[
    ['predictions', s.predictions], ['labels', s.labels], ['joined', s.joined],
    ['pending', s.pendingPredictions + s.pendingLabels], ['duplicates', s.duplicatePredictions],
  ].map(([name, value]) => {
    const span = el('span', { 'data-total': name, title: TOTAL_HELP[name] }, name + ' ');
    span.appendChild(el('b', {}, fmtInt(value)));
    return span;
  }));

  const main = document.getElementById('experiments');
  document.getElementById('empty').hidden = s.experiments.length > 0;
  for (const experiment of s.experiments) {
    let section = main.querySelector(`section[data-experiment="${CSS.escape(experiment.experiment)}"]`);
    if (!section) {
      section = buildSection(experiment.experiment, declaredOutcomes(experiment));
      main.appendChild(section);
    }
    const verdict = data.verdicts.find(v => v.experiment === experiment.experiment);
    renderExperiment(section, experiment, verdict);
    renderShedding(section, experiment.experiment);
    renderDrift(section, (s.drift || []).filter(d => d.experiment === experiment.experiment));
  }
}

const OUTCOME_HELP = { mean: 'mean', sum: 'total', rate: 'share above zero' };

const TOTAL_HELP = {
  predictions: 'predictions read from the predictions and shadow topics',
  labels: 'labels (observed outcomes) read from the labels topic',
  joined: 'predictions matched with their label',
  pending: 'waiting for their other half: predictions whose label has not arrived yet, plus labels whose prediction has not',
  duplicates: 'predictions seen again for a request id already counted (at-least-once redelivery); counted once',
};

// The outcomes the experiment's spec declares (docs/outcomes.md): every arm carries the same list, in the spec's order.
function declaredOutcomes(experiment) {
  return (experiment.arms.find(a => a.outcomes) || {}).outcomes?.map(o => ({ name: o.name, aggregate: o.aggregate })) || [];
}

function buildSection(name, outcomes) {
  const section = el('section', { class: 'experiment', 'data-experiment': name });
  const h2 = el('h2', {}, name);
  h2.appendChild(el('span', { class: 'kind' }, 'experiment'));
  section.appendChild(h2);
  section.appendChild(el('div', { class: 'verdict', 'data-verdict': '' }));
  section.appendChild(el('div', { class: 'shedding', 'data-shedding': '' }));
  // Declared outcomes add columns: the table packs tighter so that it still fits a 1280-pixel window.
  const table = el('table', { class: outcomes.length > 0 ? 'arms compact' : 'arms' });
  const head = el('tr');
  for (const [h, help] of [
    ['arm', ''], ['model', ''], ['predictions', 'since the sink started'], ['traffic share', 'of the primary arms\' predictions, since start'],
    ['throughput', 'predictions per second, ' + seconds(RATE_WINDOW)], ['labelled', 'predictions joined with their label'],
    ['accuracy', 'of the labelled predictions, since start'],
    ...outcomes.map(o => [o.name + ' ' + o.aggregate, 'declared outcome: the ' + OUTCOME_HELP[o.aggregate]
      + ' of the labelled predictions whose label carried it, since start; below, the labels that lacked it (not counted as zero)']),
    ['agrees with primary', 'shadows: share of records where the shadow answered as the primary'],
    ['latency p50', 'end-to-end latency (event time to prediction), median since start'], ['latency p99', 'end-to-end latency, 99th percentile since start'],
    ['fallbacks', 'records the fallback arm answered for this arm'], ['dead letters', 'records dead-lettered after this arm was chosen, and their share'],
  ]) {
    head.appendChild(el('th', { title: help }, h));
  }
  table.appendChild(el('thead')).appendChild(head);
  table.appendChild(el('tbody'));
  const wrap = el('div', { class: 'table-wrap' });
  wrap.appendChild(table);
  section.appendChild(wrap);
  const charts = el('div', { class: 'charts' });
  for (const [id, title, note] of [
    ['share', 'Traffic share', 'primary arms, ' + seconds(RATE_WINDOW)],
    ['throughput', 'Throughput', 'predictions per second, ' + seconds(RATE_WINDOW) + '; shadows dashed'],
    ['accuracy', 'Accuracy over time', 'labelled predictions, ' + seconds(ACCURACY_WINDOW) + '; shadows dashed'],
    ['latency-p50', 'Latency p50', 'end-to-end median, predictions of the ' + seconds(state.latencyWindowSamples)],
    ['latency-p99', 'Latency p99', 'end-to-end 99th percentile, predictions of the ' + seconds(state.latencyWindowSamples)],
  ]) {
    const box = el('div', { class: 'chart', 'data-chart': id });
    const h3 = el('h3', {}, title + ' ');
    h3.appendChild(el('span', {}, '· ' + note));
    box.appendChild(h3);
    box.appendChild(el('div', { class: 'legend' }));
    box.appendChild(svgEl('svg', { role: 'img', 'aria-label': title }));
    charts.appendChild(box);
  }
  section.appendChild(charts);
  section.appendChild(el('div', { class: 'drift', 'data-drift': '' }));
  return section;
}

// Drift per arm (docs/drift.md): one row per feature, worst first as the sink orders them, one cell per closed window
// coloured by PSI against the feature's threshold. An alert also needs the KS test's p-value below the false-alarm rate.
function renderDrift(section, arms) {
  const box = section.querySelector('[data-drift]');
  if (arms.length === 0) { box.replaceChildren(); return; }
  const h3 = el('h3', {}, 'Drift ');
  h3.appendChild(el('span', {}, '· PSI per window against each arm\'s reference, worst feature first. Green to amber: PSI up to its threshold;'
    + ' amber: over it but within chance for so few records (KS p at or above the false-alarm rate); red ⚠: drift alert (both)'));
  const blocks = arms.map(a => {
    const block = el('div', { class: 'drift-arm', 'data-drift-arm': a.arm, 'data-shadow': String(a.shadow) });
    const title = el('div', { class: 'drift-title' }, a.arm + (a.shadow ? ' (shadow)' : '') + ' · ' + a.model + (a.version ? ' v' + a.version : '') + ' · ');
    title.appendChild(el('span', { 'data-field': 'reference' }, referenceText(a)));
    if (a.predictionPsi != null) {
      title.appendChild(a.predictionAlert
        ? el('span', { class: 'alert', 'data-field': 'predictionAlert' }, ' · ⚠ predicted classes drift, PSI ' + a.predictionPsi.toFixed(3))
        : el('span', { class: 'muted' }, ' · predicted classes PSI ' + a.predictionPsi.toFixed(3)));
    }
    block.appendChild(title);
    const table = el('table', { class: 'strip' });
    for (const f of a.features) {
      const tr = el('tr', { 'data-feature': f.feature, class: f.alert ? 'alert' : '' });
      tr.appendChild(el('th', {}, (f.alert ? '⚠ ' : '') + f.feature));
      tr.appendChild(el('td', { class: 'now', 'data-field': 'psi' }, f.psi == null ? '–' : f.psi.toFixed(3)));
      f.history.forEach((psi, k) => {
        const alert = f.alertHistory[k];
        const cell = el('td', { class: 'cell' + (alert ? ' alert' : ''), style: 'background:' + heat(psi, f.threshold, alert) });
        cell.title = 'window ' + a.windows[k] + ': ' + (psi == null ? 'too few values to measure' : 'PSI ' + psi.toFixed(3) + ' (threshold ' + f.threshold + ')' + (alert ? ', drift alert' : ''));
        tr.appendChild(cell);
      });
      table.appendChild(tr);
    }
    block.appendChild(table);
    return block;
  });
  box.replaceChildren(h3, ...blocks);
}

function referenceText(a) {
  if (a.reference === 'training') return 'against its training profile (' + fmtInt(a.referenceRows) + ' rows)';
  if (a.reference === 'first-records') return 'no training profile: against its first ' + fmtInt(a.referenceRows) + ' records';
  return 'no training profile: collecting its first records as the reference (' + fmtInt(a.referenceRows) + ' so far)';
}

// Pale green well under the threshold, towards amber at it; red only for an alert (PSI over the threshold and a KS
// p-value below the false-alarm rate), since PSI alone runs high on small windows; grey when too few values to measure.
function heat(psi, threshold, alert) {
  if (psi == null) return '#eceff4';
  if (alert) return '#d2433f';
  const x = Math.min(psi / threshold, 1);
  const hue = 130 - 90 * x;
  return `hsl(${hue.toFixed(0)}, 60%, ${(88 - 30 * x).toFixed(0)}%)`;
}

// Lag-aware shedding (docs/shedding.md), read off the Predictions themselves: the share of the window's records the
// router sent to the champion instead of asking the policy (routing_reason "shed"), and how many records got their
// shadow copies (the first level sheds those).
function renderShedding(section, experiment) {
  const box = section.querySelector('[data-shedding]');
  const points = state.samples.map(s => (s.shedding || []).find(x => x.experiment === experiment)).filter(Boolean);
  if (points.length < 2) { box.replaceChildren(); box.className = 'shedding'; return; }
  const from = points[Math.max(0, points.length - 1 - RATE_WINDOW)], to = points[points.length - 1];
  const records = to.predictions - from.predictions;
  const share = records > 0 ? (to.shed - from.shed) / records : 0;
  const lines = [...series(experiment).values()];
  const delta = l => l.points.length < 2 ? 0 : l.points[l.points.length - 1].a.predictions - l.points[Math.max(0, l.points.length - 1 - RATE_WINDOW)].a.predictions;
  const shadows = lines.filter(l => l.shadow);
  const primary = lines.filter(l => !l.shadow).reduce((n, l) => n + delta(l), 0);
  const coverage = shadows.length > 0 && primary > 0 ? shadows.reduce((n, l) => n + delta(l), 0) / (primary * shadows.length) : null;
  box.className = 'shedding' + (share > 0 ? ' active' : '');
  const text = (share > 0 ? 'Shedding challengers: ' : 'Not shedding challengers: ')
    + fmtPct(share) + ' of the records of the ' + seconds(RATE_WINDOW) + ' routed to the champion by shedding ('
    + fmtInt(to.shed) + ' since start)'
    + (coverage === null ? '' : ' · shadow copies for ' + fmtPct(Math.min(coverage, 1)) + ' of records');
  box.replaceChildren(el('span', { 'data-field': 'shedShare', 'data-share': share.toFixed(4) }, text));
}

function renderExperiment(section, experiment, verdict) {
  const v = section.querySelector('[data-verdict]');
  v.className = 'verdict ' + (verdict ? verdict.state : '');
  v.textContent = verdict ? verdict.text : '';

  const lines = series(experiment.experiment);
  const primaryTotal = experiment.arms.filter(a => !a.shadow).reduce((n, a) => n + a.predictions, 0);
  const tbody = section.querySelector('tbody');
  const rows = experiment.arms.map(a => {
    const key = armKey(experiment.experiment, a.arm, a.shadow);
    const color = colorOf(key);
    const points = lines.get(key)?.points || [];
    const rate = points.length > 1 ? rateOver(points[Math.max(0, points.length - 1 - RATE_WINDOW)], points[points.length - 1]) : 0;
    const share = a.shadow || primaryTotal === 0 ? null : a.predictions / primaryTotal;
    const tr = el('tr', { 'data-arm': a.arm, 'data-shadow': String(a.shadow), class: a.shadow ? 'shadow' : '' });
    const name = el('td');
    name.appendChild(el('span', { class: 'swatch', style: 'background:' + color }));
    // With an MLflow UI to go to, the arm's name opens its run there (metrics per window, params, the verdict).
    name.appendChild(a.runUrl
      ? el('a', { href: a.runUrl, target: '_blank', rel: 'noopener', title: 'this arm\'s run in MLflow', 'data-field': 'run' }, a.arm)
      : document.createTextNode(a.arm));
    name.appendChild(el('span', { class: 'badge' + (a.shadow ? ' shadow' : '') }, a.shadow ? 'shadow' : 'primary'));
    tr.appendChild(name);
    tr.appendChild(el('td', {}, a.model + (a.version ? ' v' + a.version : '')));
    tr.appendChild(el('td', { 'data-field': 'predictions' }, fmtInt(a.predictions)));
    const shareCell = el('td', { 'data-field': 'share' });
    if (share === null) {
      shareCell.textContent = a.shadow ? 'copy' : '–';
    } else {
      const wrap = el('span', { class: 'share' });
      const bar = el('span', { class: 'bar' });
      bar.appendChild(el('i', { style: `width:${(share * 100).toFixed(1)}%;background:${color}` }));
      wrap.appendChild(bar);
      wrap.appendChild(document.createTextNode(fmtPct(share)));
      shareCell.appendChild(wrap);
    }
    tr.appendChild(shareCell);
    tr.appendChild(el('td', { 'data-field': 'throughput' }, rate.toFixed(1) + ' /s'));
    tr.appendChild(el('td', { 'data-field': 'joined' }, fmtInt(a.joined)));
    tr.appendChild(el('td', { 'data-field': 'accuracy' }, a.joined > 0 ? fmtPct(a.accuracy) : '–'));
    for (const o of a.outcomes || []) {
      const cell = el('td', { 'data-field': 'outcome-' + o.name }, o.value == null ? '–' : o.aggregate === 'rate' ? fmtPct(o.value) : fmtNum(o.value));
      cell.appendChild(el('span', { class: 'sub' }, fmtInt(o.missing) + ' missing'));
      tr.appendChild(cell);
    }
    // Shadows only: how often the shadow's label equals the primary's for the same record.
    tr.appendChild(el('td', { 'data-field': 'agreement' }, a.shadow && a.shadowAgreement != null ? fmtPct(a.shadowAgreement) : '–'));
    tr.appendChild(el('td', { 'data-field': 'p50' }, fmtMs(a.latencyP50Ms)));
    tr.appendChild(el('td', { 'data-field': 'p99' }, fmtMs(a.latencyP99Ms)));
    tr.appendChild(el('td', { 'data-field': 'fallbacks' }, fmtInt(a.fallbacks)));
    // The router's dead letters for records assigned to the arm, and their share of the arm's records (not for shadows).
    tr.appendChild(el('td', { 'data-field': 'deadLetters' },
      a.shadow || a.deadLetterRate == null ? '–' : fmtInt(a.deadLetters) + ' (' + fmtPct(a.deadLetterRate) + ')'));
    return tr;
  });
  tbody.replaceChildren(...rows);

  const all = [...lines.entries()].map(([key, l]) => ({ ...l, key, color: colorOf(key) }));
  const primary = all.filter(l => !l.shadow);

  // Traffic share: each primary arm's part of the predictions made in the window ending at each sample.
  const shareSeries = primary.map(l => ({ name: l.arm, color: l.color, points: [] }));
  const times = [...new Set(primary.flatMap(l => l.points.map(p => p.t)))].sort((x, y) => x - y);
  const deltas = primary.map(l => {
    const m = new Map();
    l.points.forEach((p, j) => m.set(p.t, p.a.predictions - l.points[Math.max(0, j - RATE_WINDOW)].a.predictions));
    return m;
  });
  for (const t of times.slice(1)) {
    const total = deltas.reduce((n, m) => n + (m.get(t) || 0), 0);
    if (total <= 0) continue;
    deltas.forEach((m, k) => shareSeries[k].points.push([t, (m.get(t) || 0) / total]));
  }
  drawChart(section.querySelector('[data-chart="share"]'), stack(shareSeries), { min: 0, max: 1, format: fmtPctShort, area: true });

  drawChart(section.querySelector('[data-chart="throughput"]'),
    all.map(l => ({ name: l.arm, color: l.color, dashed: l.shadow, points: windowed(l.points, RATE_WINDOW, rateOver) })),
    { min: 0, format: v => (v >= 10 || v === 0 ? v.toFixed(0) : v.toFixed(1)) + '/s' });

  drawChart(section.querySelector('[data-chart="accuracy"]'),
    all.map(l => ({ name: l.arm, color: l.color, dashed: l.shadow, points: windowed(l.points, ACCURACY_WINDOW, (from, to) => {
      const joined = to.a.joined - from.a.joined;
      return joined >= MIN_JOINED_IN_WINDOW ? (to.a.correct - from.a.correct) / joined : null;
    }) })),
    { format: fmtPctShort, maxCap: 1 });

  // p50 and p99 on their own axes: a tail ten times the median would flatten the median to a line at zero.
  const latencyFormat = v => v >= 1000 ? (v / 1000).toFixed(v >= 10000 ? 0 : 1) + ' s' : (v >= 10 || v === 0 ? v.toFixed(0) : v.toFixed(1)) + ' ms';
  for (const [chart, field] of [['latency-p50', 'latencyP50Ms'], ['latency-p99', 'latencyP99Ms']]) {
    drawChart(section.querySelector(`[data-chart="${chart}"]`),
      all.map(l => ({ name: l.arm, color: l.color, dashed: l.shadow, points: l.points.map(p => [p.t, p.a[field]]) })),
      { min: 0, format: latencyFormat });
  }
}

function rateOver(from, to) {
  const seconds = (to.t - from.t) / 1000;
  return seconds > 0 ? (to.a.predictions - from.a.predictions) / seconds : 0;
}

function fmtPctShort(v) { return Math.round(v * 100) + '%'; }

function niceStep(raw) {
  const power = Math.pow(10, Math.floor(Math.log10(raw)));
  const m = raw / power;
  return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * power;
}

// Turns shares into cumulative bands (each series' lower edge is the previous one's upper edge).
function stack(list) {
  const out = [];
  let below = null;
  for (const s of list) {
    const points = s.points.map(([t, v], i) => [t, v + (below ? below.points[i][1] : 0)]);
    const band = { ...s, points, lower: below ? below.points : s.points.map(([t]) => [t, 0]) };
    out.push(band);
    below = band;
  }
  return out;
}

function drawChart(box, list, opts) {
  const svg = box.querySelector('svg');
  const legend = box.querySelector('.legend');
  legend.replaceChildren(...list.filter(s => s.legend !== false).map(s => {
    const item = el('span');
    item.appendChild(el('span', { class: 'key' + (s.dashed ? ' dashed' : ''), style: 'border-color:' + s.color }));
    item.appendChild(document.createTextNode(s.name));
    return item;
  }));

  const width = Math.max(200, svg.clientWidth || 500);
  const height = Math.max(120, svg.clientHeight || 190);
  const pad = { left: 46, right: 10, top: 8, bottom: 22 };
  svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
  svg.replaceChildren();

  const values = list.flatMap(s => s.points.map(p => p[1])).filter(v => v !== null && isFinite(v));
  const ts = list.flatMap(s => s.points.map(p => p[0]));
  if (values.length === 0 || ts.length === 0) {
    const t = svgEl('text', { x: width / 2, y: height / 2, 'text-anchor': 'middle' });
    t.textContent = 'waiting for data…';
    svg.appendChild(t);
    return;
  }
  let lo = opts.min !== undefined ? opts.min : Math.min(...values);
  let hi = opts.max !== undefined ? opts.max : Math.max(...values);
  if (opts.min === undefined) lo = Math.max(0, lo - (hi - lo) * 0.15 - 0.01);
  if (opts.max === undefined) hi = hi + (hi - lo) * 0.1 + (hi === lo ? 1 : 0);
  if (opts.maxCap !== undefined) hi = Math.min(hi, opts.maxCap);
  if (hi <= lo) hi = lo + 1;
  // Round the axis to steps of 1, 2 or 5 times a power of ten, so the grid reads at a glance.
  const step = niceStep((hi - lo) / 4);
  if (opts.min === undefined) lo = Math.floor(lo / step) * step;
  if (opts.max === undefined) hi = Math.ceil(hi / step) * step;
  if (opts.maxCap !== undefined) hi = Math.min(hi, opts.maxCap);
  const ticks = [];
  for (let v = Math.ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-6; v += step) ticks.push(v);
  const t0 = Math.min(...ts), t1 = Math.max(t0 + 1000, Math.max(...ts));
  const x = t => pad.left + (t - t0) / (t1 - t0) * (width - pad.left - pad.right);
  const y = v => pad.top + (1 - (v - lo) / (hi - lo)) * (height - pad.top - pad.bottom);

  for (const v of ticks) {
    svg.appendChild(svgEl('line', { x1: pad.left, x2: width - pad.right, y1: y(v), y2: y(v), stroke: '#eef0f4' }));
    const label = svgEl('text', { x: pad.left - 6, y: y(v) + 4, 'text-anchor': 'end' });
    label.textContent = opts.format(v);
    svg.appendChild(label);
  }
  for (const t of [t0, (t0 + t1) / 2, t1]) {
    const label = svgEl('text', { x: x(t), y: height - 6, 'text-anchor': t === t0 ? 'start' : t === t1 ? 'end' : 'middle' });
    label.textContent = new Date(t).toLocaleTimeString('en-GB');
    svg.appendChild(label);
  }
  svg.appendChild(svgEl('line', { x1: pad.left, x2: width - pad.right, y1: height - pad.bottom, y2: height - pad.bottom, stroke: '#c9ced8' }));

  for (const s of list) {
    if (opts.area && s.points.length > 1) {
      const top = s.points.map(([t, v]) => `${x(t).toFixed(1)},${y(v).toFixed(1)}`);
      const bottom = s.lower.slice().reverse().map(([t, v]) => `${x(t).toFixed(1)},${y(v).toFixed(1)}`);
      svg.appendChild(svgEl('polygon', { points: top.concat(bottom).join(' '), fill: s.color, 'fill-opacity': 0.55, stroke: s.color, 'stroke-width': 1 }));
      continue;
    }
    // A null value (too few labels in the window) breaks the line instead of drawing a misleading point.
    let d = '', pen = false;
    for (const [t, v] of s.points) {
      if (v === null || !isFinite(v)) { pen = false; continue; }
      d += (pen ? 'L' : 'M') + x(t).toFixed(1) + ',' + y(Math.min(v, hi)).toFixed(1);
      pen = true;
    }
    if (d) {
      svg.appendChild(svgEl('path', { d, fill: 'none', stroke: s.color, 'stroke-width': 2, 'stroke-dasharray': s.dashed ? '5 4' : 'none', 'stroke-linejoin': 'round' }));
    }
  }
}

poll();
