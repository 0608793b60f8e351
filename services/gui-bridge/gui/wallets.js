// Which loaded wallet the wallet and send pages work on: the first one listwallets names, until the user picks
// another (remembered in sessionStorage, for this tab).
import {rpc} from './rpc.js';
import {el} from './util.js';

const KEY = 'orrery-wallet';

//! The loaded wallets and the one chosen: {wallets, name}; name is undefined when none is loaded.
export async function chosenWallet() {
  const wallets = await rpc('listwallets');
  const saved = sessionStorage.getItem(KEY);
  return {wallets, name: wallets.includes(saved) ? saved : wallets[0]};
}

//! A select of the loaded wallets when there are several (null for one); `changed` runs after a pick.
export function walletChooser(wallets, name, changed) {
  if (wallets.length < 2) return null;
  return el('label', {}, 'Wallet ', el('select', {id: 'wallet-choice', 'aria-label': 'Wallet', onchange: (e) => {
    sessionStorage.setItem(KEY, e.target.value);
    changed(e.target.value);
  }}, wallets.map((w) => el('option', {value: w, selected: w === name}, w || '(default)'))));
}
