// Console: runs an RPC command as bitcoin-cli would read it (method, then arguments as JSON where they parse,
// strings otherwise), with the method list and each method's help from the server.
import {rpc} from '../rpc.js';
import {el, errorText} from '../util.js';

const history = [];

//! Splits a command line as a shell would for bitcoin-cli: spaces separate, quotes group.
export function splitCommand(line) {
  const words = [];
  let current = null, quote = null;
  for (const c of line) {
    if (quote) {
      if (c === quote) quote = null;
      else current += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      current = current ?? '';
    } else if (/\s/.test(c)) {
      if (current !== null) words.push(current);
      current = null;
    } else {
      current = (current ?? '') + c;
    }
  }
  if (current !== null) words.push(current);
  return words;
}

function argument(word) {
  try {
    return JSON.parse(word);
  } catch (e) {
    return word;
  }
}

export default {
  title: 'Console',
  mount(root) {
    const output = el('pre', {class: 'console-out', id: 'console-output', role: 'log', 'aria-live': 'polite',
      'aria-label': 'Console output'});
    const input = el('input', {id: 'console-input', 'aria-label': 'Command', autocomplete: 'off', spellcheck: 'false',
      placeholder: 'help, getblockchaininfo, generatetoaddress 1 <address>…'});
    let position = history.length;
    input.addEventListener('keydown', (e) => {
      if (e.key === 'ArrowUp' && position > 0) input.value = history[--position];
      else if (e.key === 'ArrowDown' && position < history.length) input.value = history[++position] ?? '';
      else return;
      e.preventDefault();
    });
    const write = (text, cls) => {
      output.append(el('div', {class: cls}, text));
      output.scrollTop = output.scrollHeight;
    };
    const form = el('form', {class: 'row', onsubmit: async (e) => {
      e.preventDefault();
      const line = input.value.trim();
      if (!line) return;
      history.push(line);
      position = history.length;
      input.value = '';
      write(`> ${line}`, 'cmd');
      const [method, ...words] = splitCommand(line);
      try {
        const result = await rpc(method, words.map(argument));
        write(typeof result === 'string' ? result : JSON.stringify(result, null, 2), 'result');
      } catch (error) {
        write(`error ${error.code ?? ''}: ${errorText(error)}`, 'err');
      }
    }}, input, el('button', {type: 'submit'}, 'Run'));
    root.append(el('h1', {}, 'Console'), el('section', {class: 'card', 'aria-label': 'RPC console'},
      el('p', {class: 'muted'}, 'Runs a JSON-RPC call with your credentials. "help" lists every method, ' +
        '"help <method>" explains one.'), output, form));
    input.focus();
  },
};
