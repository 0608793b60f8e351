// Blocks and transactions: the latest blocks (new ones arrive through the event stream), a block's
// transactions, a transaction's inputs and outputs, and search by height, block hash, txid or address.
import {rpc, batch} from '../rpc.js';
import * as events from '../events.js';
import {el, clear, kv, table, bytes, time, btc, shortHash, errorText} from '../util.js';

const LATEST = 10;

function searchForm() {
  const input = el('input', {type: 'search', id: 'search', 'aria-label': 'Height, block hash, txid or address',
    placeholder: 'Height, block hash, txid or address'});
  return el('form', {class: 'row card', role: 'search', onsubmit: (e) => {
    e.preventDefault();
    const q = input.value.trim();
    if (q) location.hash = `#/search/${encodeURIComponent(q)}`;
  }}, input, el('button', {type: 'submit'}, 'Search'));
}

async function latest(section) {
  const tip = await rpc('getblockcount');
  const heights = [];
  for (let h = tip; h >= 0 && h > tip - LATEST; h--) heights.push(h);
  const hashes = await batch(heights.map((h) => ['getblockhash', [h]]));
  const headers = await batch(hashes.map((hash) => ['getblock', [hash, 1]]));
  clear(section).append(el('h2', {}, 'Latest blocks'), table(
    ['Height', 'Hash', {text: 'Txs', class: 'num'}, {text: 'Size', class: 'num'}, 'Time'],
    headers.filter((b) => !(b instanceof Error)).map((b) => el('tr', {},
      el('td', {}, el('a', {href: `#/block/${b.hash}`, 'data-height': b.height}, b.height)),
      el('td', {class: 'mono'}, el('a', {href: `#/block/${b.hash}`}, shortHash(b.hash))),
      el('td', {class: 'num'}, b.nTx), el('td', {class: 'num'}, bytes(b.size)), el('td', {}, time(b.time)))),
    'Latest blocks'));
}

function outputsTotal(tx) {
  return tx.vout.reduce((sum, out) => sum + out.value, 0);
}

async function showBlock(section, hash) {
  const block = await rpc('getblock', [hash, 2]);
  clear(section).append(
    el('h1', {}, `Block ${block.height}`),
    el('div', {class: 'card'}, kv([
      ['Hash', block.hash, {class: 'mono', id: 'block-hash'}],
      ['Confirmations', block.confirmations], ['Time', time(block.time)],
      ['Previous', block.previousblockhash ? el('a', {href: `#/block/${block.previousblockhash}`, class: 'mono'},
        block.previousblockhash) : '–'],
      ['Next', block.nextblockhash ? el('a', {href: `#/block/${block.nextblockhash}`, class: 'mono'},
        block.nextblockhash) : '–'],
      ['Transactions', block.nTx], ['Size', bytes(block.size)], ['Weight', block.weight],
      ['Merkle root', block.merkleroot, {class: 'mono'}], ['Bits', block.bits], ['Nonce', block.nonce]])),
    el('section', {class: 'card', 'aria-label': 'Transactions of the block'}, el('h2', {}, 'Transactions'),
      table(['Txid', {text: 'Outputs', class: 'num'}, {text: 'vsize', class: 'num'}],
        block.tx.map((tx) => el('tr', {},
          el('td', {class: 'mono'}, el('a', {href: `#/tx/${tx.txid}/${block.hash}`, class: 'txid'}, tx.txid)),
          el('td', {class: 'num'}, btc(outputsTotal(tx))), el('td', {class: 'num'}, tx.vsize))),
        'Transactions')));
}

async function showTx(section, txid, blockhash) {
  const tx = await rpc('getrawtransaction', blockhash ? [txid, true, blockhash] : [txid, true]);
  clear(section).append(
    el('h1', {}, 'Transaction'),
    el('div', {class: 'card'}, kv([
      ['Txid', tx.txid, {class: 'mono', id: 'tx-id'}], ['Wtxid', tx.hash, {class: 'mono'}],
      ['Block', tx.blockhash ? el('a', {href: `#/block/${tx.blockhash}`, class: 'mono'}, tx.blockhash) : 'in the mempool'],
      ['Confirmations', tx.confirmations ?? 0], ['Size', `${tx.size} B, ${tx.vsize} vB`], ['Version', tx.version],
      ['Lock time', tx.locktime]])),
    el('div', {class: 'grid'},
      el('section', {class: 'card', 'aria-label': 'Inputs'}, el('h2', {}, `Inputs (${tx.vin.length})`),
        table(['#', 'Spends'], tx.vin.map((input, i) => el('tr', {}, el('td', {}, i),
          el('td', {class: 'mono'}, input.coinbase ? `coinbase ${input.coinbase}`
            : el('a', {href: `#/tx/${input.txid}`}, `${input.txid}:${input.vout}`)))), 'Inputs')),
      el('section', {class: 'card', 'aria-label': 'Outputs'}, el('h2', {}, `Outputs (${tx.vout.length})`),
        table(['#', 'To', {text: 'Amount', class: 'num'}], tx.vout.map((out) => el('tr', {class: 'vout'},
          el('td', {}, out.n),
          el('td', {class: 'mono'}, out.scriptPubKey.address || out.scriptPubKey.type),
          el('td', {class: 'num'}, btc(out.value)))), 'Outputs'))));
}

async function showAddress(section, address) {
  const found = await rpc('scantxoutset', ['start', [`addr(${address})`]]);
  clear(section).append(el('h1', {}, 'Address'),
    el('div', {class: 'card'}, kv([['Address', address, {class: 'mono'}], ['Unspent outputs', found.unspents.length],
      ['Total', btc(found.total_amount)], ['At height', found.height]])),
    el('section', {class: 'card', 'aria-label': 'Unspent outputs'}, el('h2', {}, 'Unspent outputs'),
      table(['Outpoint', {text: 'Height', class: 'num'}, {text: 'Amount', class: 'num'}],
        found.unspents.map((u) => el('tr', {},
          el('td', {class: 'mono'}, el('a', {href: `#/tx/${u.txid}`}, `${u.txid}:${u.vout}`)),
          el('td', {class: 'num'}, u.height), el('td', {class: 'num'}, btc(u.amount)))), 'Unspent outputs')));
}

async function search(section, q) {
  if (/^\d+$/.test(q)) {
    location.hash = `#/block/${await rpc('getblockhash', [Number(q)])}`;
    return;
  }
  if (/^[0-9a-fA-F]{64}$/.test(q)) {
    try {
      await rpc('getblockheader', [q]);
      location.hash = `#/block/${q}`;
      return;
    } catch (e) { /* not a block: a transaction? */ }
    location.hash = `#/tx/${q}`;
    return;
  }
  const check = await rpc('validateaddress', [q]).catch(() => ({isvalid: true}));
  if (!check.isvalid) throw new Error(`"${q}" is not a height, a hash or an address of this network`);
  await showAddress(section, q);
}

export default {
  title: 'Blocks',
  mount(root, args, name) {
    const section = el('div', {}, el('p', {class: 'muted'}, 'Loading…'));
    root.append(searchForm(), section);
    const fail = (error) => clear(section).append(el('p', {class: 'error', role: 'alert'}, errorText(error)));
    let offs = [];
    if (name === 'block') showBlock(section, args[0]).catch(fail);
    else if (name === 'tx') showTx(section, args[0], args[1]).catch(fail);
    else if (name === 'search') search(section, args[0]).catch(fail);
    else {
      const card = el('section', {class: 'card', 'aria-label': 'Latest blocks'});
      clear(section).append(el('h1', {}, 'Blocks'), card);
      latest(card).catch(fail);
      offs = [events.on('tip', () => latest(card).catch(fail))];
    }
    return () => offs.forEach((off) => off());
  },
};
