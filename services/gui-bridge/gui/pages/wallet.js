// Wallet: balances, the encryption lock state, receive (a new address with its label and a QR code drawn by
// qr.js), and the history with confirmations and a Bump fee button (bumpfee) for unconfirmed replaceable sends —
// each part shown when the wallet serves its methods, else with the reason. Sending is the Send page's.
import {rpc, hasMethod, RpcError} from '../rpc.js';
import * as events from '../events.js';
import {el, clear, kv, table, btc, time, errorText} from '../util.js';
import {encode, toSvg} from '../qr.js';
import {chosenWallet, walletChooser} from '../wallets.js';

//! getwalletinfo's unlocked_until as bitcoind means it: absent for a wallet that is not encrypted, 0 while locked.
function lockState(info) {
  if (!('unlocked_until' in info)) return ['not encrypted', 'none'];
  if (!info.unlocked_until) return ['encrypted, locked', 'locked'];
  return [`encrypted, unlocked until ${time(info.unlocked_until)}`, 'unlocked'];
}

export default {
  title: 'Wallet',
  mount(root) {
    const summary = el('section', {class: 'card', 'aria-label': 'Wallet'}, el('p', {class: 'muted'}, 'Loading…'));
    const receive = el('section', {class: 'card', 'aria-labelledby': 'h-receive'});
    const send = el('section', {class: 'card', 'aria-labelledby': 'h-send'}, el('h2', {id: 'h-send'}, 'Send'),
      el('p', {}, el('a', {href: '#/send', id: 'go-send'}, 'Pay to an address'),
        ' — address check, fee rate, a confirmation step.'));
    const history = el('section', {class: 'card', 'aria-labelledby': 'h-history'});
    root.append(el('h1', {}, 'Wallet'), summary, el('div', {class: 'grid'}, receive, send), history);
    let walletName;

    async function drawSummary() {
      const chosen = await chosenWallet();
      const wallets = chosen.wallets;
      if (!wallets.length) {
        clear(summary).append(el('p', {}, 'No wallet is loaded (started with -disablewallet, or none was made).'));
        return false;
      }
      walletName = chosen.name;
      const info = await rpc('getwalletinfo', [], walletName);
      let balances = null;
      try {
        balances = await rpc('getbalances', [], walletName);
      } catch (error) {
        if (!(error instanceof RpcError) || error.code !== -32601) throw error;
      }
      const rows = [['Wallet', info.walletname || '(default)', {id: 'wallet-name'}], ['Format', info.format || '–']];
      if (balances) {
        rows.push(['Trusted', btc(balances.mine.trusted)], ['Pending', btc(balances.mine.untrusted_pending)],
          ['Immature', btc(balances.mine.immature)]);
      } else if ('balance' in info) {
        rows.push(['Balance', btc(info.balance)]);
      } else {
        rows.push(['Balance', 'this wallet does not report balances yet (no getbalances)']);
      }
      const [lockText, lock] = lockState(info);
      rows.push(['Encryption', lockText, {id: 'wallet-lock', 'data-lock': lock}]);
      if (info.lastprocessedblock) rows.push(['Synced to block', info.lastprocessedblock.height]);
      const choose = walletChooser(wallets, walletName, () => drawAll());
      clear(summary).append(el('h2', {}, 'Balances'), ...(choose ? [choose] : []), kv(rows));
      return true;
    }

    function drawReceive() {
      const label = el('input', {id: 'receive-label', 'aria-label': 'Label for the new address', placeholder: 'Label'});
      const type = el('select', {id: 'receive-type', 'aria-label': 'Address type'},
        ['bech32', 'bech32m', 'p2sh-segwit', 'legacy'].map((t) => el('option', {value: t}, t)));
      const out = el('div', {role: 'status'});
      const form = el('form', {onsubmit: async (e) => {
        e.preventDefault();
        try {
          const address = await rpc('getnewaddress', [label.value, type.value], walletName);
          const uri = `bitcoin:${address}` + (label.value ? `?label=${encodeURIComponent(label.value)}` : '');
          clear(out).append(el('p', {class: 'mono', id: 'receive-address'}, address),
            toSvg(encode(uri), `QR code of ${uri}`), el('p', {class: 'muted mono'}, uri));
        } catch (error) {
          clear(out).append(el('p', {class: 'error'}, errorText(error)));
        }
      }}, el('fieldset', {}, el('legend', {}, 'New address'), el('label', {}, 'Label', label),
        el('label', {}, 'Type', type), el('button', {type: 'submit'}, 'New receiving address')));
      clear(receive).append(el('h2', {id: 'h-receive'}, 'Receive'), form, out);
    }

    const status = el('p', {role: 'status', id: 'history-status'}); // kept across redraws
    let historyDraws = 0;
    async function drawHistory() {
      const mine = ++historyDraws; // events come in bursts: only the latest draw lands
      const show = (...parts) => {
        if (mine === historyDraws) clear(history).append(el('h2', {id: 'h-history'}, 'History'), status, ...parts);
      };
      let entries;
      try {
        entries = await rpc('listtransactions', ['*', 50], walletName);
      } catch (error) {
        const reason = error instanceof RpcError && error.code === -32601
          ? 'The wallet has no transaction history yet (it does not serve listtransactions).' : errorText(error);
        show(el('p', {class: 'notice'}, reason));
        return;
      }
      const canBump = await hasMethod('bumpfee');
      // Bump fee (BIP125): a send of ours, unconfirmed, that signals replaceability.
      const bumpable = (t) => canBump && t.category === 'send' && t.confirmations === 0 &&
        t['bip125-replaceable'] !== 'no';
      const bump = async (txid, button) => {
        button.disabled = true;
        status.textContent = `Bumping the fee of ${txid}…`;
        try {
          const result = await rpc('bumpfee', [txid], walletName);
          status.textContent = `Replaced by ${result.txid}: fee ${btc(result.origfee)} → ${btc(result.fee)}`;
          drawHistory();
        } catch (error) {
          button.disabled = false;
          status.textContent = errorText(error);
        }
      };
      show(entries.length ? table(['Time', 'Category', {text: 'Amount', class: 'num'},
        {text: 'Confirmations', class: 'num'}, 'Address', 'Txid', ''],
      entries.reverse().map((t) => el('tr', {'data-txid': t.txid, 'data-category': t.category,
        'data-confirmations': t.confirmations},
      el('td', {}, time(t.time)), el('td', {}, t.category),
      el('td', {class: 'num'}, btc(t.amount)), el('td', {class: 'num confirmations'}, t.confirmations),
      el('td', {class: 'mono'}, t.address || ''),
      el('td', {class: 'mono'}, el('a', {href: `#/tx/${t.txid}`}, t.txid)),
      el('td', {}, bumpable(t) ? el('button', {type: 'button', class: 'plain bump', 'aria-label': `Bump the fee of ${t.txid}`,
        onclick: (e) => bump(t.txid, e.target)}, 'Bump fee') : ''))), 'History')
        : el('p', {class: 'muted'}, 'No transactions yet.'));
    }

    async function drawAll() {
      try {
        if (!(await drawSummary())) return;
        drawReceive();
        drawHistory();
      } catch (error) {
        clear(summary).append(el('p', {class: 'error'}, errorText(error)));
      }
    }

    drawAll();
    // A block confirms, a transaction of ours enters the mempool: balances and history change.
    const refresh = () => { drawSummary().catch(() => {}); drawHistory(); };
    const offs = [events.on('tip', refresh), events.on('mempool', refresh)];
    return () => offs.forEach((off) => off());
  },
};
