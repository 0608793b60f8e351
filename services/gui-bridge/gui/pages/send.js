// Send: pay to an address from the chosen wallet, as bitcoin-qt's send tab does. The address is checked as it is
// typed (validateaddress, or the wallet's getaddressinfo where the node has no validateaddress); the fee rate is
// chosen from estimatesmartfee's estimates or typed in sat/vB; a confirmation step shows the transaction before
// it is sent (the wallet's walletcreatefundedpsbt, decoded, where the wallet has it; otherwise what will be paid
// and the fee rate); then sendtoaddress, replaceable (BIP125) so that the wallet page's Bump fee can raise it.
import {rpc, hasMethod, RpcError} from '../rpc.js';
import {el, clear, kv, table, btc, errorText, shortHash} from '../util.js';
import {chosenWallet, walletChooser} from '../wallets.js';

// Confirmation targets offered, as bitcoin-qt's fee section offers them.
const TARGETS = [[2, 'next blocks'], [6, 'about an hour'], [144, 'about a day'], [1008, 'about a week']];

//! estimatesmartfee's BTC/kvB as sat/vB.
const satPerVbyte = (btcPerKvb) => Math.round(btcPerKvb * 1e8 / 1000 * 1000) / 1000;

//! The address check: {valid, text}; validateaddress where the server has it, else the wallet's getaddressinfo.
async function checkAddress(address, wallet) {
  if (!address) return {valid: false, text: ''};
  if (await hasMethod('validateaddress')) {
    const info = await rpc('validateaddress', [address]);
    if (!info.isvalid) return {valid: false, text: info.error || 'not a valid address'};
    const kind = info.witness_version !== undefined ? `witness v${info.witness_version}` : (info.isscript ? 'script' : 'key hash');
    return {valid: true, text: `valid address (${kind})`};
  }
  try {
    const info = await rpc('getaddressinfo', [address], wallet);
    return {valid: true, text: info.ismine ? 'valid address (this wallet\'s own)' : 'valid address'};
  } catch (error) {
    if (error instanceof RpcError && error.code === -5) return {valid: false, text: error.message};
    throw error;
  }
}

export default {
  title: 'Send',
  mount(root) {
    const card = el('section', {class: 'card', 'aria-labelledby': 'h-send'}, el('p', {class: 'muted'}, 'Loading…'));
    root.append(el('h1', {}, 'Send'), card);
    let alive = true;

    async function draw() {
      const {wallets, name} = await chosenWallet();
      if (!alive) return;
      if (name === undefined) {
        clear(card).append(el('p', {}, 'No wallet is loaded (started with -disablewallet, or none was made).'));
        return;
      }
      const canSend = await hasMethod('sendtoaddress');
      const canFund = await hasMethod('walletcreatefundedpsbt') && await hasMethod('decodepsbt');

      const address = el('input', {id: 'send-address', 'aria-label': 'Pay to address', required: true,
        autocomplete: 'off', spellcheck: 'false'});
      const addressCheck = el('p', {id: 'send-address-check', class: 'muted', role: 'status', 'aria-live': 'polite'});
      const amount = el('input', {id: 'send-amount', 'aria-label': 'Amount in BTC', type: 'number', step: '0.00000001',
        min: '0.00000001', required: true});
      const subtract = el('input', {id: 'send-subtract', type: 'checkbox'});
      const feeChoice = el('select', {id: 'send-fee', 'aria-label': 'Fee rate'},
        TARGETS.map(([n, text]) => el('option', {value: `target:${n}`}, `confirm within ${n} blocks, ${text}`)),
        el('option', {value: 'custom'}, 'a fee rate I choose (sat/vB)'));
      const customRate = el('input', {id: 'send-fee-rate', 'aria-label': 'Fee rate in sat/vB', type: 'number',
        step: '0.001', min: '1', value: '1', hidden: true});
      const estimate = el('p', {id: 'send-estimate', class: 'muted', role: 'status', 'aria-live': 'polite'});
      const review = el('button', {type: 'submit', id: 'send-review'}, 'Review');
      const fieldset = el('fieldset', {},
        el('legend', {}, 'Pay to'), el('label', {}, 'Address', address), addressCheck,
        el('label', {}, 'Amount (BTC)', amount),
        el('label', {class: 'check'}, subtract, 'Subtract the fee from the amount'),
        el('label', {}, 'Fee', feeChoice), customRate, estimate, review);
      const confirmBox = el('div', {id: 'send-confirm', role: 'region', 'aria-label': 'Confirmation'});
      let checked = {valid: false};

      const estimates = new Map(); // target -> sat/vB, or the reason there is none
      async function showEstimate() {
        customRate.hidden = feeChoice.value !== 'custom';
        if (feeChoice.value === 'custom') {
          estimate.textContent = `${customRate.value} sat/vB, as typed`;
          return;
        }
        const target = Number(feeChoice.value.split(':')[1]);
        if (!estimates.has(target)) {
          try {
            const fee = await rpc('estimatesmartfee', [target]);
            estimates.set(target, fee.feerate !== undefined ? {rate: satPerVbyte(fee.feerate), blocks: fee.blocks}
              : {none: (fee.errors || []).join('; ') || 'no estimate'});
          } catch (error) {
            estimates.set(target, {none: errorText(error)});
          }
        }
        const known = estimates.get(target);
        estimate.textContent = known.rate !== undefined
          ? `Estimate: ${known.rate} sat/vB (for confirmation within ${known.blocks} blocks)`
          : `No estimate from the node yet (${known.none}): with a target the wallet needs its -fallbackfee; ` +
            'a fee rate you choose always works.';
      }
      feeChoice.addEventListener('change', showEstimate);
      customRate.addEventListener('input', showEstimate);

      let checking = 0;
      address.addEventListener('input', async () => {
        const mine = ++checking;
        const text = address.value.trim();
        try {
          const result = await checkAddress(text, name);
          if (mine !== checking) return;
          checked = {...result, address: text};
          addressCheck.textContent = result.text;
          addressCheck.className = result.valid ? 'ok' : (text ? 'error' : 'muted');
          address.setAttribute('aria-invalid', text && !result.valid ? 'true' : 'false');
        } catch (error) {
          if (mine === checking) addressCheck.textContent = errorText(error);
        }
      });

      //! What sendtoaddress and walletcreatefundedpsbt get for the fee: a target, or a rate in sat/vB.
      function feeOptions() {
        if (feeChoice.value === 'custom') return {fee_rate: Number(customRate.value)};
        return {conf_target: Number(feeChoice.value.split(':')[1])};
      }

      async function fundedView(to, value) {
        const funded = await rpc('walletcreatefundedpsbt', {inputs: [], outputs: [{[to]: value}],
          options: {...feeOptions(), replaceable: true, ...(subtract.checked ? {subtractFeeFromOutputs: [0]} : {})}},
        name);
        const decoded = await rpc('decodepsbt', [funded.psbt]);
        const tx = decoded.tx;
        const inputs = tx.vin.map((vin, i) => el('tr', {class: 'confirm-vin'},
          el('td', {class: 'mono'}, `${shortHash(vin.txid)}:${vin.vout}`),
          el('td', {class: 'num'}, btc((decoded.inputs[i].witness_utxo || {}).amount))));
        const outputs = tx.vout.map((out, i) => el('tr', {class: 'confirm-vout'},
          el('td', {class: 'mono'}, (out.scriptPubKey.address || out.scriptPubKey.hex) +
            (i === funded.changepos ? ' (change)' : '')),
          el('td', {class: 'num'}, btc(out.value))));
        return [kv([['Fee', btc(funded.fee), {id: 'confirm-fee'}], ['Size', `${tx.vsize} vB`],
          ['Fee rate', `${(funded.fee * 1e8 / tx.vsize).toFixed(1)} sat/vB`], ['Replaceable', 'yes (BIP125)']]),
        table(['Input', {text: 'Amount', class: 'num'}], inputs, 'Inputs'),
        table(['Output', {text: 'Amount', class: 'num'}], outputs, 'Outputs')];
      }

      async function showConfirmation() {
        const to = address.value.trim();
        const value = Number(amount.value);
        const fee = feeChoice.value === 'custom' ? `${customRate.value} sat/vB`
          : `${estimate.textContent || feeChoice.selectedOptions[0].textContent}`;
        const rows = [['To', to, {class: 'mono', id: 'confirm-address'}], ['Amount', btc(value), {id: 'confirm-amount'}],
          ['Fee', fee], ['Fee paid by', subtract.checked ? 'the recipient (taken from the amount)' : 'this wallet']];
        const parts = [el('h2', {}, 'Confirm the payment'), kv(rows)];
        if (canFund) {
          try {
            parts.push(el('h2', {}, 'The transaction'), ...(await fundedView(to, value)));
          } catch (error) {
            parts.push(el('p', {class: 'error'}, `The wallet cannot build it: ${errorText(error)}`));
          }
        } else {
          parts.push(el('p', {class: 'muted'}, 'The wallet picks the inputs and the change when it sends (it has no ' +
            'walletcreatefundedpsbt to show them first).'));
        }
        const sendButton = el('button', {type: 'button', id: 'send-confirm-button', disabled: !canSend, onclick: async () => {
          sendButton.disabled = true;
          try {
            const txid = await rpc('sendtoaddress', {address: to, amount: value, subtractfeefromamount: subtract.checked,
              replaceable: true, ...feeOptions()}, name);
            clear(confirmBox).append(el('p', {role: 'status'}, 'Sent: ',
              el('a', {href: `#/tx/${txid}`, class: 'mono', id: 'sent-txid'}, txid)));
          } catch (error) {
            sendButton.disabled = false;
            confirmBox.append(el('p', {class: 'error', role: 'alert'}, errorText(error)));
          }
        }}, 'Send');
        clear(confirmBox).append(el('div', {class: 'notice'}, parts,
          el('div', {class: 'row'}, sendButton,
            el('button', {type: 'button', class: 'plain', onclick: () => clear(confirmBox)}, 'Cancel'))));
      }

      const form = el('form', {id: 'send-form', onsubmit: async (e) => {
        e.preventDefault();
        const text = address.value.trim();
        if (checked.address !== text) checked = {...(await checkAddress(text, name)), address: text};
        if (!checked.valid) {
          clear(confirmBox).append(el('p', {class: 'error', role: 'alert'}, `Check the address: ${checked.text}`));
          return;
        }
        await showConfirmation();
      }}, fieldset);

      clear(card).append(el('h2', {id: 'h-send'}, `Pay from ${name || '(default wallet)'}`));
      const chooser = walletChooser(wallets, name, () => draw());
      if (chooser) card.append(chooser);
      if (!canSend) {
        card.append(el('p', {class: 'notice', id: 'send-disabled'}, 'Sending is not available yet: the wallet does ' +
          'not serve sendtoaddress. The address check, the fee estimate and the confirmation work; Send stays off.'));
      }
      card.append(form, confirmBox);
      showEstimate();
    }

    draw().catch((error) => clear(card).append(el('p', {class: 'error'}, errorText(error))));
    return () => { alive = false; };
  },
};
