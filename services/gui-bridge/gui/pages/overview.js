// Overview: sync progress with a time-left estimate, the tip, the mempool with its fee histogram, balances.
// Redrawn when the event stream brings a new tip or mempool news.
import {rpc, batch, RpcError} from '../rpc.js';
import * as events from '../events.js';
import {el, clear, kv, bytes, duration, time, btc, errorText} from '../util.js';

const FEE_BUCKETS = [1, 2, 3, 4, 5, 6, 8, 10, 12, 15, 20, 30, 50, 100, 200]; // sat/vB lower bounds

// Blocks per second while syncing, from the tips the stream brought (kept across visits to the page).
const tipTimes = [];

function syncEstimate(info) {
  const behind = info.headers - info.blocks;
  if (behind <= 0) return 'synced';
  if (tipTimes.length < 2) return `${behind} blocks to go`;
  const [a, b] = [tipTimes[0], tipTimes[tipTimes.length - 1]];
  const rate = (b.height - a.height) / ((b.at - a.at) / 1000);
  return rate > 0 ? `${behind} blocks to go, about ${duration(behind / rate)} left` : `${behind} blocks to go`;
}

function histogram(entries) {
  const counts = FEE_BUCKETS.map(() => ({count: 0, vsize: 0}));
  for (const entry of Object.values(entries)) {
    const rate = (entry.fees ? entry.fees.base : entry.fee) * 1e8 / entry.vsize;
    let i = FEE_BUCKETS.length - 1;
    while (i > 0 && rate < FEE_BUCKETS[i]) i--;
    counts[i].count++;
    counts[i].vsize += entry.vsize;
  }
  const max = Math.max(1, ...counts.map((c) => c.vsize));
  return el('div', {class: 'hist', role: 'img',
    'aria-label': 'Mempool virtual size by fee rate: ' + counts.map((c, i) => `${FEE_BUCKETS[i]}+ sat/vB ${c.count} tx`).join(', ')},
  counts.map((c, i) => {
    const bar = el('div', {class: 'b', title: `${c.count} tx, ${c.vsize} vB at ${FEE_BUCKETS[i]}+ sat/vB`});
    bar.style.height = `${(100 * c.vsize / max).toFixed(1)}%`;
    return el('div', {class: 'col'}, bar, el('span', {}, FEE_BUCKETS[i]));
  }));
}

export default {
  title: 'Overview',
  mount(root) {
    const sync = el('section', {class: 'card', 'aria-labelledby': 'h-sync'}, el('h2', {id: 'h-sync'}, 'Sync'));
    const tip = el('section', {class: 'card', 'aria-labelledby': 'h-tip'}, el('h2', {id: 'h-tip'}, 'Chain tip'));
    const mempool = el('section', {class: 'card', 'aria-labelledby': 'h-mempool'}, el('h2', {id: 'h-mempool'}, 'Mempool'));
    const balances = el('section', {class: 'card', 'aria-labelledby': 'h-bal'}, el('h2', {id: 'h-bal'}, 'Balances'));
    root.append(el('h1', {}, 'Overview'), el('div', {class: 'grid'}, sync, tip, mempool, balances));
    const body = (card) => { while (card.childNodes.length > 1) card.lastChild.remove(); return card; };

    async function drawChain() {
      try {
        const info = await rpc('getblockchaininfo');
        const header = info.blocks === info.headers || !info.headers ? 1 : info.blocks / info.headers;
        const bar = el('div');
        bar.style.width = `${(100 * Math.min(1, header)).toFixed(2)}%`;
        body(sync).append(
          el('div', {class: 'progress', role: 'progressbar', 'aria-label': 'Blocks validated of headers known',
            'aria-valuemin': 0, 'aria-valuemax': info.headers, 'aria-valuenow': info.blocks}, bar),
          kv([['Headers', info.headers], ['Blocks', info.blocks],
            ['Progress', `${(100 * info.verificationprogress).toFixed(2)} %`],
            ['Estimate', syncEstimate(info), {id: 'sync-estimate'}], ['Network', info.chain]]));
        body(tip).append(
          el('div', {class: 'big', id: 'tip-height', 'aria-label': 'Tip height'}, info.blocks),
          kv([['Hash', el('a', {class: 'hash mono', href: `#/block/${info.bestblockhash}`}, info.bestblockhash)],
            ['Median time', time(info.mediantime)], ['Size on disk', bytes(info.size_on_disk)]]));
      } catch (error) {
        body(sync).append(el('p', {class: 'error'}, errorText(error)));
      }
    }

    async function drawMempool() {
      try {
        const [info, entries] = await batch([['getmempoolinfo'], ['getrawmempool', [true]]]);
        if (info instanceof Error) throw info;
        body(mempool).append(
          kv([['Transactions', info.size, {id: 'mempool-size'}], ['Virtual size', bytes(info.bytes)],
            ['Memory', bytes(info.usage)], ['Minimum fee', `${info.mempoolminfee} BTC/kvB`]]),
          el('h2', {}, 'Fee rates (sat/vB)'),
          entries instanceof Error ? el('p', {class: 'error'}, entries.message) : histogram(entries));
      } catch (error) {
        body(mempool).append(el('p', {class: 'error'}, errorText(error)));
      }
    }

    async function drawBalances() {
      try {
        const wallets = await rpc('listwallets');
        if (!wallets.length) {
          body(balances).append(el('p', {class: 'muted'}, 'No wallet is loaded.'));
          return;
        }
        const rows = [];
        for (const name of wallets) {
          let value;
          try {
            const b = await rpc('getbalances', [], name);
            value = `${btc(b.mine.trusted)} (${btc(b.mine.untrusted_pending)} pending, ${btc(b.mine.immature)} immature)`;
          } catch (error) {
            if (!(error instanceof RpcError) || error.code !== -32601) throw error;
            const info = await rpc('getwalletinfo', [], name);
            value = 'balance' in info ? btc(info.balance) : 'not reported by this wallet yet';
          }
          rows.push([name || '(default)', value]);
        }
        body(balances).append(kv(rows));
      } catch (error) {
        body(balances).append(el('p', {class: 'muted'}, errorText(error)));
      }
    }

    drawChain();
    drawMempool();
    drawBalances();
    const offs = [
      events.on('tip', (t) => {
        tipTimes.push({height: t.height, at: Date.now()});
        while (tipTimes.length > 30) tipTimes.shift();
        drawChain();
        drawMempool();
        drawBalances();
      }),
      events.on('mempool', drawMempool),
    ];
    return () => offs.forEach((off) => off());
  },
};
