// The constellation: every process orreryd runs, from the event stream's samples of its table (getprocessinfo
// at first), with CPU use computed between samples, and a restart button for each service. Agents appear and
// vanish with their peers.
import {rpc} from '../rpc.js';
import * as events from '../events.js';
import {el, clear, table, bytes, duration, errorText} from '../util.js';

const SERVICES = new Set(['node', 'wallet', 'gui-bridge']);
// The IPC links of the constellation (doc/design.md) and the interface each carries.
const LINKS = [
  ['orreryd', 'node', 'Node (admission), MockClock'],
  ['node', 'orreryd', 'Supervisor (outbound connections)'],
  ['wallet', 'node', 'Chain'],
  ['gui-bridge', 'node', 'Chain (ZMQ, live events), RpcHost'],
  ['gui-bridge', 'wallet', 'RpcHost'],
  ['gui-bridge', 'orreryd', 'Supervisor'],
  ['p2p-agent', 'node', 'PeerHost (each agent its own link)'],
  ['node', 'p2p-agent', 'Agent'],
];

let previous = new Map(); // pid -> {cpu, at}

export default {
  title: 'Constellation',
  mount(root) {
    const status = el('p', {role: 'status', class: 'muted'});
    const processes = el('section', {class: 'card', 'aria-label': 'Processes'}, el('p', {class: 'muted'}, 'Loading…'));
    root.append(el('h1', {}, 'Constellation'), status, processes,
      el('section', {class: 'card', 'aria-label': 'IPC links'}, el('h2', {}, 'IPC links'),
        table(['From', 'To', 'Interfaces'], LINKS.map(([a, b, what]) => el('tr', {}, el('td', {}, a), el('td', {}, b),
          el('td', {}, what))), 'IPC links'),
        el('p', {class: 'notice'}, 'Calls per second and latency per link are not shown: the IPC layer does not count ' +
          'them yet (-debug=ipc logs each call).')));

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
      clear(processes).append(el('h2', {}, `Processes (${list.length})`),
        table(['Role', 'Pid', 'State', {text: 'Uptime', class: 'num'}, {text: 'Restarts', class: 'num'},
          {text: 'Memory', class: 'num'}, {text: 'CPU', class: 'num'}, {text: 'CPU time', class: 'num'}, 'Peer', ''],
        rows, 'Processes'));
    }

    rpc('getprocessinfo').then(draw).catch((error) => clear(processes).append(el('p', {class: 'error'}, errorText(error))));
    const offs = [
      events.on('processes', draw),
      events.on('process', (change) => { status.textContent = `${change.role} ${change.pid} ${change.change}`; }),
    ];
    return () => offs.forEach((off) => off());
  },
};
