// The constellation: every process orreryd runs, from the event stream's samples of its table (getprocessinfo
// at first), with CPU use computed between samples, and a restart button for each service. Agents appear and
// vanish with their peers. The IPC links between them come from the same samples (each process's counters of
// calls made and served): calls per second and latency percentiles between two samples.
import {rpc} from '../rpc.js';
import * as events from '../events.js';
import {el, clear, table, bytes, duration, errorText} from '../util.js';

const SERVICES = new Set(['node', 'wallet', 'gui-bridge']);
// The IPC links of the constellation (doc/design.md) and the interface each carries.
const LINKS = [
  ['orreryd', 'node', 'Node (admission), MockClock, LinkReport'],
  ['orreryd', 'wallet', 'MockClock, LinkReport'],
  ['orreryd', 'gui-bridge', 'MockClock, LinkReport'],
  ['node', 'orreryd', 'Supervisor (outbound connections), ProcessTable'],
  ['wallet', 'orreryd', 'ProcessTable'],
  ['gui-bridge', 'orreryd', 'Supervisor, ProcessTable'],
  ['wallet', 'node', 'Chain'],
  ['node', 'gui-bridge', 'RpcRouter (registers its RPC table)'],
  ['wallet', 'gui-bridge', 'RpcRouter (registers its RPC table)'],
  ['gui-bridge', 'node', 'Chain (ZMQ, live events), RpcHost'],
  ['gui-bridge', 'wallet', 'RpcHost, WalletLoader'],
  ['p2p-agent', 'node', 'PeerHost (each agent its own link)'],
  ['node', 'p2p-agent', 'Agent'],
];

let previous = new Map(); // pid -> {cpu, at}
let previousLinks = new Map(); // "from>to" -> {calls, histogram, at}

//! What LinkReport's histograms mean (common/ipc/link_stats.h): bucket i holds calls of [2^i, 2^(i+1)) µs.
function quantile(histogram, q) {
  const total = histogram.reduce((a, b) => a + b, 0);
  if (!total) return null;
  const rank = Math.max(1, Math.ceil(q * total));
  let seen = 0;
  for (let i = 0; i < histogram.length; i++) {
    seen += histogram[i];
    if (seen >= rank) return i + 1 >= histogram.length ? 2 ** i : 2 ** (i + 1);
  }
  return 2 ** (histogram.length - 1);
}

function micros(us) {
  if (us === null || us === undefined) return '–';
  if (us < 1000) return `≤ ${us} µs`;
  if (us < 1000000) return `≤ ${(us / 1000).toFixed(us < 10000 ? 1 : 0)} ms`;
  return `≤ ${(us / 1000000).toFixed(1)} s`;
}

//! Directed links "caller -> callee" between processes, from every process's report. Two processes may share
//! several links (the bridge calls the node's RpcHost over the node's registration, and the node's Chain over its
//! own connection): their figures are summed. A pair both sides report is shown as its caller saw it (the round
//! trip); one only the callee reports (an agent serves no report) as served there.
function directedLinks(list) {
  const byKey = new Map();
  const add = (from, to, figures, measured) => {
    const key = `${from.pid}>${to.pid}`;
    if (!byKey.has(key)) byKey.set(key, {key, from, to, caller: null, callee: null});
    const entry = byKey.get(key);
    const sum = entry[measured] || {calls: 0, errors: 0, total_us: 0, histogram: figures.histogram.map(() => 0)};
    sum.calls += figures.calls;
    sum.errors += figures.errors;
    sum.total_us += figures.total_us;
    figures.histogram.forEach((n, i) => { sum.histogram[i] += n; });
    entry[measured] = sum;
  };
  for (const p of list) {
    for (const link of p.links || []) {
      const self = {role: p.role, pid: p.pid};
      const peer = {role: link.peer_role, pid: link.peer_pid};
      if (link.made.calls) add(self, peer, link.made, 'caller');
      if (link.served.calls) add(peer, self, link.served, 'callee');
    }
  }
  return [...byKey.values()].map((e) => ({...e, figures: e.caller || e.callee, measured: e.caller ? 'caller' : 'callee'}))
    .sort((a, b) => a.from.role.localeCompare(b.from.role) || a.to.role.localeCompare(b.to.role) ||
      a.from.pid - b.from.pid || a.to.pid - b.to.pid);
}

export default {
  title: 'Constellation',
  mount(root) {
    const status = el('p', {role: 'status', class: 'muted'});
    const processes = el('section', {class: 'card', 'aria-label': 'Processes'}, el('p', {class: 'muted'}, 'Loading…'));
    const links = el('section', {class: 'card', 'aria-label': 'IPC links'}, el('h2', {}, 'IPC links'));
    root.append(el('h1', {}, 'Constellation'), status, processes,
      links);

    async function restart(role) {
      status.textContent = `Restarting ${role}…`;
      try {
        await rpc('restartservice', [role]);
        status.textContent = `${role} restart requested; the table follows as orreryd reports it.`;
      } catch (error) {
        // Restarting the gui-bridge cuts this very request short: the event stream reconnects by itself.
        status.textContent = role === 'gui-bridge' ? 'gui-bridge restarting; reconnecting…' : errorText(error);
      }
    }

    function draw(list) {
      const now = Date.now();
      const next = new Map();
      const rows = list.map((p) => {
        const before = previous.get(p.pid);
        let cpu = '–';
        if (before && now > before.at) cpu = `${(100 * (p.cpu_seconds - before.cpu) / ((now - before.at) / 1000)).toFixed(1)} %`;
        if (p.pid) next.set(p.pid, {cpu: p.cpu_seconds, at: now});
        return el('tr', {'data-role': p.role, 'data-pid': p.pid},
          el('td', {}, p.role), el('td', {class: 'mono pid'}, p.pid || '–'),
          el('td', {}, el('span', {class: `badge ${p.state}`}, p.state)),
          el('td', {class: 'num'}, duration(p.uptime)), el('td', {class: 'num restarts'}, p.restarts),
          el('td', {class: 'num'}, bytes(p.rss_bytes)), el('td', {class: 'num'}, cpu),
          el('td', {class: 'num'}, `${p.cpu_seconds.toFixed(2)} s`),
          el('td', {class: 'mono'}, p.peer_address || ''),
          el('td', {}, SERVICES.has(p.role) ? el('button', {type: 'button', class: 'plain',
            'aria-label': `Restart ${p.role}`, 'data-restart': p.role, onclick: () => restart(p.role)}, 'Restart') : ''));
      });
      previous = next;
      drawLinks(list, now);
      clear(processes).append(el('h2', {}, `Processes (${list.length})`),
        table(['Role', 'Pid', 'State', {text: 'Uptime', class: 'num'}, {text: 'Restarts', class: 'num'},
          {text: 'Memory', class: 'num'}, {text: 'CPU', class: 'num'}, {text: 'CPU time', class: 'num'}, 'Peer', ''],
        rows, 'Processes'));
    }

    function drawLinks(list, now) {
      const nextLinks = new Map();
      const interfaces = (from, to) => (LINKS.find(([a, b]) => a === from && b === to) || [])[2] || '';
      const rows = directedLinks(list).map((link) => {
        const f = link.figures;
        const before = previousLinks.get(link.key);
        nextLinks.set(link.key, {calls: f.calls, histogram: f.histogram, at: now});
        let rate = '–';
        let recent = f.histogram;
        if (before && now > before.at && f.calls >= before.calls) {
          rate = ((f.calls - before.calls) / ((now - before.at) / 1000)).toFixed(1);
          const delta = f.histogram.map((n, i) => n - (before.histogram[i] || 0));
          if (f.calls > before.calls) recent = delta;
        }
        const name = (end) => `${end.role} ${end.pid}`;
        return el('tr', {'data-from': link.from.role, 'data-to': link.to.role, 'data-from-pid': link.from.pid,
          'data-to-pid': link.to.pid, 'data-calls': f.calls},
        el('td', {}, name(link.from)), el('td', {}, name(link.to)), el('td', {}, interfaces(link.from.role, link.to.role)),
        el('td', {class: 'num calls'}, f.calls), el('td', {class: 'num rate'}, rate),
        el('td', {class: 'num'}, micros(quantile(recent, 0.5))), el('td', {class: 'num'}, micros(quantile(recent, 0.99))),
        el('td', {class: 'num'}, f.errors),
        el('td', {class: 'muted'}, link.measured === 'caller' ? 'round trip' : 'served'));
      });
      previousLinks = nextLinks;
      clear(links).append(el('h2', {}, `IPC links (${rows.length})`),
        rows.length ? table(['Caller', 'Callee', 'Interfaces', {text: 'Calls', class: 'num'},
          {text: 'Calls/s', class: 'num'}, {text: 'p50', class: 'num'}, {text: 'p99', class: 'num'},
          {text: 'Errors', class: 'num'}, 'Latency'], rows, 'IPC links')
          : el('p', {class: 'muted'}, 'No IPC calls reported yet (orreryd gathers each service\'s links).'),
        el('p', {class: 'muted'}, 'Calls per second and latency (the p50 and p99 buckets, powers of two) between the ' +
          'last two samples, or since the start when no call came in between; a caller\'s figure is the round ' +
          'trip, a callee\'s (for an agent) the time its handler ran.'));
    }

    rpc('getprocessinfo').then(draw).catch((error) => clear(processes).append(el('p', {class: 'error'}, errorText(error))));
    const offs = [
      events.on('processes', draw),
      events.on('process', (change) => { status.textContent = `${change.role} ${change.pid} ${change.change}`; }),
    ];
    return () => offs.forEach((off) => off());
  },
};
