// Peers: getpeerinfo with each peer's p2p-agent pid, disconnect and ban buttons, and a traffic chart fed by
// the event stream's nettotals samples. The table is read again when the stream says a peer came or went.
import {rpc} from '../rpc.js';
import * as events from '../events.js';
import {el, clear, table, bytes, errorText} from '../util.js';

const SAMPLES = 90;
// Receive/send rates (bytes/s) from the stream's samples, kept across visits to the page.
const rates = [];
let lastTotals = null;
events.on('nettotals', (t) => {
  if (lastTotals && t.timemillis > lastTotals.timemillis) {
    const seconds = (t.timemillis - lastTotals.timemillis) / 1000;
    rates.push({recv: Math.max(0, t.totalbytesrecv - lastTotals.totalbytesrecv) / seconds,
      sent: Math.max(0, t.totalbytessent - lastTotals.totalbytessent) / seconds});
    while (rates.length > SAMPLES) rates.shift();
  }
  lastTotals = t;
});

function hostOf(addr) {
  const v6 = /^\[(.*)\]:\d+$/.exec(addr);
  if (v6) return v6[1];
  return addr.replace(/:\d+$/, '');
}

function chart(svg) {
  const NS = 'http://www.w3.org/2000/svg';
  while (svg.firstChild) svg.firstChild.remove();
  const width = 300, height = 100;
  const max = Math.max(1, ...rates.map((r) => Math.max(r.recv, r.sent)));
  const line = (key, cls) => {
    const points = rates.map((r, i) => `${(i * width / (SAMPLES - 1)).toFixed(1)},${(height - r[key] * height / max).toFixed(1)}`);
    const path = document.createElementNS(NS, 'polyline');
    path.setAttribute('points', points.join(' '));
    path.setAttribute('fill', 'none');
    path.setAttribute('stroke', `var(${cls})`);
    path.setAttribute('stroke-width', '1.5');
    path.setAttribute('vector-effect', 'non-scaling-stroke');
    svg.append(path);
  };
  line('recv', '--bar');
  line('sent', '--bar2');
  const last = rates[rates.length - 1] || {recv: 0, sent: 0};
  svg.setAttribute('aria-label', `Network traffic over the last ${rates.length} seconds: now ${bytes(last.recv)}/s in, ` +
    `${bytes(last.sent)}/s out, peak ${bytes(max)}/s`);
}

export default {
  title: 'Peers',
  mount(root) {
    const list = el('section', {class: 'card', 'aria-label': 'Connected peers'}, el('p', {class: 'muted'}, 'Loading…'));
    const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
    svg.setAttribute('viewBox', '0 0 300 100');
    svg.setAttribute('preserveAspectRatio', 'none');
    svg.setAttribute('class', 'chart');
    svg.setAttribute('role', 'img');
    svg.setAttribute('id', 'traffic');
    const legend = el('div', {class: 'legend'}, el('span', {class: 'in'}, '■ received'), el('span', {class: 'out'}, '■ sent'),
      el('span', {class: 'muted', id: 'traffic-now'}));
    const status = el('p', {role: 'status', class: 'muted'});
    root.append(el('h1', {}, 'Peers'),
      el('section', {class: 'card', 'aria-label': 'Network traffic'}, el('h2', {}, 'Traffic'), svg, legend),
      status, list);

    async function act(label, method, params) {
      try {
        await rpc(method, params);
        status.textContent = label;
      } catch (error) {
        status.textContent = errorText(error);
      }
      draw();
    }

    async function draw() {
      try {
        const peers = await rpc('getpeerinfo');
        clear(list).append(el('h2', {}, `Connected peers (${peers.length})`), peers.length ? table(
          ['Id', 'Address', 'Direction', 'Agent pid', {text: 'Ping', class: 'num'}, {text: 'Sent', class: 'num'},
            {text: 'Received', class: 'num'}, {text: 'Height', class: 'num'}, 'Agent', ''],
          peers.map((p) => el('tr', {'data-peer': p.id},
            el('td', {}, p.id), el('td', {class: 'mono'}, p.addr),
            el('td', {}, p.inbound ? 'in' : `out (${p.connection_type})`),
            el('td', {class: 'mono agent-pid'}, p.agent_pid ?? '–'),
            el('td', {class: 'num'}, p.pingtime !== undefined ? `${(p.pingtime * 1000).toFixed(0)} ms` : '–'),
            el('td', {class: 'num'}, bytes(p.bytessent)), el('td', {class: 'num'}, bytes(p.bytesrecv)),
            el('td', {class: 'num'}, p.synced_blocks ?? p.startingheight),
            el('td', {}, p.subver),
            el('td', {}, el('span', {class: 'row'},
              el('button', {type: 'button', class: 'plain', 'aria-label': `Disconnect peer ${p.id}`,
                onclick: () => act(`Peer ${p.id} disconnected`, 'disconnectnode', ['', p.id])}, 'Disconnect'),
              el('button', {type: 'button', class: 'danger', 'aria-label': `Ban ${hostOf(p.addr)} for a day`,
                onclick: () => act(`${hostOf(p.addr)} banned for 24 hours`, 'setban', [hostOf(p.addr), 'add', 86400])},
              'Ban'))))),
          'Connected peers') : el('p', {class: 'muted'}, 'No peers are connected.'));
      } catch (error) {
        clear(list).append(el('p', {class: 'error'}, errorText(error)));
      }
    }

    draw();
    chart(svg);
    const offs = [
      events.on('peer', draw),
      events.on('nettotals', () => {
        chart(svg);
        const last = rates[rates.length - 1];
        if (last) document.getElementById('traffic-now').textContent = `now ${bytes(last.recv)}/s in, ${bytes(last.sent)}/s out`;
      }),
    ];
    return () => offs.forEach((off) => off());
  },
};
