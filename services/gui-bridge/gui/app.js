// The GUI's shell: log-in, theme, the hash router (#/page/arg...) and the live indicator.
import {rpc, setCredentials, clearCredentials, hasCredentials, RpcError} from './rpc.js';
import * as events from './events.js';
import {clear, errorText} from './util.js';
import overview from './pages/overview.js';
import blocks from './pages/blocks.js';
import peers from './pages/peers.js';
import constellation from './pages/constellation.js';
import wallet from './pages/wallet.js';
import send from './pages/send.js';
import consolePage from './pages/console.js';

const PAGES = {overview, blocks, block: blocks, tx: blocks, search: blocks, peers, constellation, wallet,
  send, console: consolePage};
const NAV_OF = {block: 'blocks', tx: 'blocks', search: 'blocks'};

const $ = (id) => document.getElementById(id);
let unmount = null;

// --- theme: the system's unless the toggle chose one
function applyTheme(theme) {
  if (theme) document.documentElement.dataset.theme = theme;
  else delete document.documentElement.dataset.theme;
}
applyTheme(localStorage.getItem('orrery-theme'));
$('theme').addEventListener('click', () => {
  const dark = document.documentElement.dataset.theme
    ? document.documentElement.dataset.theme === 'dark'
    : matchMedia('(prefers-color-scheme: dark)').matches;
  const next = dark ? 'light' : 'dark';
  localStorage.setItem('orrery-theme', next);
  applyTheme(next);
});

// --- live indicator
events.on('stream', ({connected}) => {
  $('live').classList.toggle('on', connected);
  $('live').title = connected ? 'Live: connected to the event stream' : 'Event stream disconnected; reconnecting';
});
events.on('unauthorized', () => logout('Your credentials are no longer accepted'));

// --- log-in
function showLogin(message) {
  if (unmount) unmount();
  unmount = null;
  clear($('page'));
  $('login').hidden = false;
  $('logout').hidden = true;
  $('login-error').textContent = message || '';
  $('login-password').focus();
}

function logout(message) {
  events.stop();
  clearCredentials();
  showLogin(message);
}

$('login').addEventListener('submit', async (e) => {
  e.preventDefault();
  let user = $('login-user').value.trim();
  let password = $('login-password').value.trim();
  if (password.includes(':') && (user === '' || user === '__cookie__')) {
    [user, password] = [password.slice(0, password.indexOf(':')), password.slice(password.indexOf(':') + 1)];
  }
  setCredentials(user, password);
  try {
    await rpc('uptime');
  } catch (error) {
    if (error instanceof RpcError && error.code === 401) {
      clearCredentials();
      $('login-error').textContent = 'Log-in refused: wrong user name or password.';
      return;
    }
    // Another error (a whitelist without uptime, warm-up) still proves the credentials.
  }
  $('login-password').value = '';
  enter();
});
$('logout').addEventListener('click', () => logout());

function enter() {
  $('login').hidden = true;
  $('logout').hidden = false;
  events.start();
  route();
}

// --- pages
async function route() {
  if (!hasCredentials()) return showLogin();
  const parts = (location.hash.replace(/^#\/?/, '') || 'overview').split('/').map(decodeURIComponent);
  const name = PAGES[parts[0]] ? parts[0] : 'overview';
  for (const link of document.querySelectorAll('#nav a')) {
    if (link.dataset.page === (NAV_OF[name] || name)) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  if (unmount) unmount();
  unmount = null;
  const root = clear($('page'));
  root.dataset.page = name;
  document.title = `Orrery · ${PAGES[name].title}`;
  try {
    unmount = PAGES[name].mount(root, parts.slice(1), name) || null;
  } catch (error) {
    root.textContent = errorText(error);
  }
}

window.addEventListener('hashchange', () => { if (hasCredentials()) route(); });
if (hasCredentials()) enter();
else showLogin();
