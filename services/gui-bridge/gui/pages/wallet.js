// Wallet: balances, receive (a new address with its label and a QR code drawn by qr.js), history, and send —
// each part shown when the wallet serves its methods, else disabled with the reason.
import {rpc, hasMethod, RpcError} from '../rpc.js';
import * as events from '../events.js';
import {el, clear, kv, table, btc, time, errorText} from '../util.js';
import {encode, toSvg} from '../qr.js';

export default {
  title: 'Wallet',
  mount(root) {
    const summary = el('section', {class: 'card', 'aria-label': 'Wallet'}, el('p', {class: 'muted'}, 'Loading…'));
    const receive = el('section', {class: 'card', 'aria-labelledby': 'h-receive'});
    const send = el('section', {class: 'card', 'aria-labelledby': 'h-send'});
    const history = el('section', {class: 'card', 'aria-labelledby': 'h-history'});
    root.append(el('h1', {}, 'Wallet'), summary, el('div', {class: 'grid'}, receive, send), history);
    let walletName;

    async function drawSummary() {
      const wallets = await rpc('listwallets');
      if (!wallets.length) {
        clear(summary).append(el('p', {}, 'No wallet is loaded (started with -disablewallet, or none was made).'));
        return false;
      }
      walletName = walletName ?? wallets[0];
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
      rows.push(['Encryption', 'unlocked_until' in info
        ? (info.unlocked_until === 0 ? 'encrypted, locked' : `encrypted, unlocked until ${time(info.unlocked_until)}`)
        : 'not encrypted']);
      if (info.lastprocessedblock) rows.push(['Synced to block', info.lastprocessedblock.height]);
      const choose = wallets.length > 1 ? el('select', {'aria-label': 'Wallet', onchange: (e) => {
        walletName = e.target.value;
        drawAll();
      }}, wallets.map((w) => el('option', {value: w, selected: w === walletName}, w || '(default)'))) : null;
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

    async function drawSend() {
      clear(send).append(el('h2', {id: 'h-send'}, 'Send'));
      const missing = [];
      for (const method of ['sendtoaddress', 'estimatesmartfee', 'bumpfee']) {
        if (!(await hasMethod(method))) missing.push(method);
      }
      const address = el('input', {id: 'send-address', 'aria-label': 'Pay to address', required: true});
      const amount = el('input', {id: 'send-amount', 'aria-label': 'Amount in BTC', type: 'number', step: '0.00000001',
        min: '0', required: true});
      const target = el('select', {id: 'send-target', 'aria-label': 'Confirmation target'},
        [[1, 'next block'], [6, 'about an hour'], [144, 'about a day']].map(([n, t]) => el('option', {value: n}, `${t} (${n})`)));
      const estimate = el('p', {class: 'muted', role: 'status'});
      const fieldset = el('fieldset', {disabled: missing.includes('sendtoaddress')},
        el('legend', {}, 'Pay to'), el('label', {}, 'Address', address), el('label', {}, 'Amount (BTC)', amount),
        el('label', {}, 'Fee: confirm within', target), estimate, el('button', {type: 'submit'}, 'Review'));
      const confirmBox = el('div', {role: 'region', 'aria-label': 'Confirmation'});
      target.addEventListener('change', async () => {
        try {
          const fee = await rpc('estimatesmartfee', [Number(target.value)]);
          estimate.textContent = fee.feerate ? `Estimated ${fee.feerate} BTC/kvB` : 'No estimate yet';
        } catch (error) {
          estimate.textContent = errorText(error);
        }
      });
      const form = el('form', {onsubmit: (e) => {
        e.preventDefault();
        clear(confirmBox).append(el('div', {class: 'notice'}, kv([['To', address.value, {class: 'mono'}],
          ['Amount', btc(Number(amount.value))], ['Confirm within', `${target.value} blocks`]]),
        el('div', {class: 'row'}, el('button', {type: 'button', onclick: async () => {
          try {
            const txid = await rpc('sendtoaddress', [address.value, Number(amount.value), '', '', false, true,
              Number(target.value)], walletName);
            clear(confirmBox).append(el('p', {}, 'Sent: ', el('a', {href: `#/tx/${txid}`, class: 'mono'}, txid)));
          } catch (error) {
            clear(confirmBox).append(el('p', {class: 'error'}, errorText(error)));
          }
        }}, 'Send'), el('button', {type: 'button', class: 'plain', onclick: () => clear(confirmBox)}, 'Cancel'))));
      }}, fieldset);
      if (missing.includes('sendtoaddress')) {
        send.append(el('p', {class: 'notice', id: 'send-disabled'},
          'Sending is not available yet: the wallet does not serve sendtoaddress.'));
      }
      send.append(form, confirmBox);
    }

    async function drawHistory() {
      clear(history).append(el('h2', {id: 'h-history'}, 'History'));
      let entries;
      try {
        entries = await rpc('listtransactions', ['*', 50], walletName);
      } catch (error) {
        const reason = error instanceof RpcError && error.code === -32601
          ? 'The wallet has no transaction history yet (it does not serve listtransactions).' : errorText(error);
        history.append(el('p', {class: 'notice'}, reason));
        return;
      }
      history.append(entries.length ? table(['Time', 'Category', {text: 'Amount', class: 'num'},
        {text: 'Confirmations', class: 'num'}, 'Address', 'Txid'],
      entries.reverse().map((t) => el('tr', {}, el('td', {}, time(t.time)), el('td', {}, t.category),
        el('td', {class: 'num'}, btc(t.amount)), el('td', {class: 'num'}, t.confirmations), el('td', {class: 'mono'}, t.address || ''),
        el('td', {class: 'mono'}, el('a', {href: `#/tx/${t.txid}`}, t.txid)))), 'History')
        : el('p', {class: 'muted'}, 'No transactions yet.'));
    }

    async function drawAll() {
      try {
        if (!(await drawSummary())) return;
        drawReceive();
        drawSend();
        drawHistory();
      } catch (error) {
        clear(summary).append(el('p', {class: 'error'}, errorText(error)));
      }
    }

    drawAll();
    const offs = [events.on('tip', () => { drawSummary().catch(() => {}); drawHistory(); })];
    return () => offs.forEach((off) => off());
  },
};
