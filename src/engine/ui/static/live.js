// Live progress of one operation (the page is complete without it): follows the engine's event
// stream and updates the nodes' states, steps and reasons and appends log lines. Values are set as
// text (textContent), never as markup.
const op = document.getElementById('op');
if (op && op.dataset.live === 'yes') follow(op);

function follow(el) {
  const wid = el.dataset.wid;
  const url = `/ui/operations/${encodeURIComponent(wid)}/events?verbosity=${encodeURIComponent(el.dataset.verbosity)}&from=${encodeURIComponent(el.dataset.next)}`;
  const events = new EventSource(url);
  const tbody = document.getElementById('op-nodes');
  const log = document.getElementById('op-log');
  const status = document.getElementById('op-status');
  const finished = document.getElementById('op-finished');
  el.dataset.stream = 'open';

  events.addEventListener('status', (m) => {
    const st = JSON.parse(m.data);
    setState(status, st.status);
    if (st.finishedAt) finished.textContent = formatDate(st.finishedAt);
    for (const [node, v] of Object.entries(st.nodes)) {
      const row = rowOf(tbody, node);
      setState(row.querySelector('.state'), v.state);
      row.querySelector('.macro').textContent = v.macro ?? '';
      row.querySelector('.micro').textContent = v.micro ?? '';
      row.querySelector('.reason').textContent = v.error ?? '';
    }
  });
  events.addEventListener('log', (m) => {
    const { lines } = JSON.parse(m.data);
    log.append(document.createTextNode(lines.map((l) => `${l}\n`).join('')));
  });
  events.addEventListener('end', () => {
    events.close();
    el.dataset.live = 'no';
    el.dataset.stream = 'ended';
  });
  events.addEventListener('failure', (m) => {
    events.close();
    el.dataset.stream = 'failed';
    const p = document.createElement('p');
    p.className = 'error';
    p.textContent = JSON.parse(m.data).message;
    el.after(p);
  });
}

function rowOf(tbody, node) {
  for (const tr of tbody.rows) if (tr.dataset.node === node) return tr;
  const tr = tbody.insertRow();
  tr.dataset.node = node;
  const a = document.createElement('a');
  a.href = `/ui/nodes/${encodeURIComponent(node)}`;
  a.textContent = node;
  tr.insertCell().append(a);
  for (const c of ['state', 'macro', 'micro', 'reason']) tr.insertCell().className = c;
  return tr;
}

function setState(cell, state) {
  cell.textContent = state;
  for (const c of [...cell.classList]) if (c.startsWith('st-')) cell.classList.remove(c);
  cell.classList.add(/^[a-z_]{1,32}$/.test(state) ? `st-${state}` : 'st-other');
}

function formatDate(ms) {
  return new Date(ms)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, 'Z');
}
