// The web GUI in a real browser (Debian's chromium, headless, driven by playwright-core), against a running
// constellation. Run by tests/functional/test_gui.py, which passes in the environment:
//   ORRERY_GUI_URL      http://127.0.0.1:<rpcport>/
//   ORRERY_GUI_COOKIE   the cookie file's line (__cookie__:<password>)
//   ORRERY_GUI_PIDS     {"node": pid, "wallet": pid, "gui-bridge": pid} as orreryd reports them
//   ORRERY_GUI_SHOTS    a folder for the screenshots of every page (kept as test artefacts)
//   ORRERY_CHROMIUM     the browser (default /usr/bin/chromium)
// Each step prints a line on stderr; the findings go to stdout as one JSON object.
import {chromium} from 'playwright-core';
import fs from 'node:fs';
import path from 'node:path';

const url = process.env.ORRERY_GUI_URL;
const cookie = process.env.ORRERY_GUI_COOKIE;
const pids = JSON.parse(process.env.ORRERY_GUI_PIDS);
const shots = process.env.ORRERY_GUI_SHOTS;
fs.mkdirSync(shots, {recursive: true});
const step = (text) => process.stderr.write(`gui: ${text}\n`);
const found = {};
const TIMEOUT = 20000;

const errors = [];
const browser = await chromium.launch({executablePath: process.env.ORRERY_CHROMIUM || '/usr/bin/chromium',
  args: ['--disable-gpu', '--disable-dev-shm-usage']});
try {
  const context = await browser.newContext({viewport: {width: 1280, height: 900}});
  context.setDefaultTimeout(TIMEOUT);
  const watch = (page) => {
    page.on('pageerror', (e) => errors.push(String(e)));
    // Network statuses (a 401 at log-in, bitcoind's 404 for a method a service does not have) are the pages'
    // to handle; anything else logged as an error is a failure.
    page.on('console', (m) => {
      if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) errors.push(m.text());
    });
  };
  const shot = (page, name) => page.screenshot({path: path.join(shots, `${name}.png`), fullPage: true});

  async function logIn(page, user, password) {
    await page.fill('#login-user', user);
    await page.fill('#login-password', password);
    await page.click('#login button[type=submit]');
  }

  // --- a wrong password is refused
  const page = await context.newPage();
  watch(page);
  await page.goto(url);
  step('log-in with a wrong password');
  await logIn(page, '__cookie__', 'wrong');
  await page.waitForFunction(() => /refused/.test(document.getElementById('login-error').textContent));
  found.wrong_password_refused = await page.isVisible('#login') && !(await page.isVisible('#logout'));
  await shot(page, 'login-refused');

  // --- the cookie's line logs in; the overview shows the tip and the stream is live
  step('log-in with the cookie');
  await logIn(page, '__cookie__', cookie);
  await page.waitForSelector('#tip-height');
  await page.waitForSelector('#live.on');
  found.height_before = Number(await page.textContent('#tip-height'));
  await page.evaluate(() => { window.notReloaded = true; });

  // --- a second tab mines through the console; the first one's overview follows without a reload
  step('mine 3 blocks from the console in a second tab');
  const second = await context.newPage();
  watch(second);
  await second.goto(url + '#/console');
  await logIn(second, '', cookie);
  await second.waitForSelector('#console-input');
  const run = async (command) => {
    const before = await second.locator('#console-output .result, #console-output .err').count();
    await second.fill('#console-input', command);
    await second.press('#console-input', 'Enter');
    await second.locator('#console-output .result, #console-output .err').nth(before).waitFor();
    return second.locator('#console-output .result, #console-output .err').nth(before).textContent();
  };
  const address = (await run('getnewaddress')).trim();
  found.mined = JSON.parse(await run(`generatetoaddress 3 ${address}`));
  found.help_lists_getprocessinfo = (await run('help')).includes('getprocessinfo');
  await shot(second, 'console');
  await page.waitForFunction((h) => Number(document.getElementById('tip-height').textContent) === h,
    found.height_before + 3);
  found.height_after = Number(await page.textContent('#tip-height'));
  found.overview_not_reloaded = await page.evaluate(() => window.notReloaded === true);
  await page.waitForSelector('#mempool-size');
  await shot(page, 'overview');
  await second.close();

  // --- a block and one of its transactions
  step('open the newest block and its coinbase');
  await page.goto(url + '#/blocks');
  await page.click(`a[data-height="${found.height_after}"]`);
  await page.waitForSelector('#block-hash');
  found.block_hash = (await page.textContent('#block-hash')).trim();
  await shot(page, 'block');
  await page.click('a.txid >> nth=0');
  await page.waitForSelector('#tx-id');
  found.txid = (await page.textContent('#tx-id')).trim();
  found.tx_outputs = await page.locator('tr.vout').count();
  await shot(page, 'transaction');
  await page.goto(url + '#/blocks');
  await page.waitForSelector(`a[data-height="${found.height_after}"]`);
  await shot(page, 'blocks');
  await page.fill('#search', '1');
  await page.press('#search', 'Enter');
  await page.waitForFunction(() => location.hash.startsWith('#/block/') && document.getElementById('block-hash'));
  found.search_height_1 = (await page.textContent('#block-hash')).trim();

  // --- the constellation: the real pids, then a restart of the wallet
  step('constellation page');
  await page.goto(url + '#/constellation');
  const pidOf = (role) => page.getAttribute(`tr[data-role="${role}"]`, 'data-pid');
  await page.waitForSelector('tr[data-role="gui-bridge"]');
  found.pids_shown = {};
  for (const role of Object.keys(pids)) found.pids_shown[role] = Number(await pidOf(role));
  step('constellation page: the IPC links carry the RPC traffic, with calls/s and latency');
  // The console's calls went browser -> gui-bridge -> node; a second sample gives the rate.
  await page.waitForFunction(() => {
    const row = document.querySelector('tr[data-from="gui-bridge"][data-to="node"]');
    return row && Number(row.dataset.calls) > 0 && row.querySelector('.rate').textContent !== '–';
  });
  found.links = await page.$$eval('tr[data-from]', (rows) => rows.map((r) => ({from: r.dataset.from,
    to: r.dataset.to, from_pid: Number(r.dataset.fromPid), to_pid: Number(r.dataset.toPid),
    calls: Number(r.dataset.calls), rate: r.querySelector('.rate').textContent})));
  await shot(page, 'constellation');
  step('restart the wallet from the page');
  await page.click('button[data-restart="wallet"]');
  await page.waitForFunction((old) => {
    const row = document.querySelector('tr[data-role="wallet"]');
    return row && row.dataset.pid !== '0' && row.dataset.pid !== String(old) && row.textContent.includes('running');
  }, pids.wallet, {timeout: 30000});
  found.wallet_pid_after = Number(await pidOf('wallet'));

  // --- a peer (test_gui.py connected one): its agent on both pages, banned from the peers page
  step('peers page: the connected peer and its agent');
  await page.goto(url + '#/peers');
  await page.waitForSelector('tr[data-peer]');
  await page.waitForFunction(() => document.getElementById('traffic').getAttribute('aria-label'));
  found.peer_agent_pid = Number(await page.textContent('tr[data-peer] .agent-pid'));
  await shot(page, 'peers');
  await page.goto(url + '#/constellation');
  await page.waitForSelector(`tr[data-pid="${found.peer_agent_pid}"]`);
  found.agent_row_role = await page.getAttribute(`tr[data-pid="${found.peer_agent_pid}"]`, 'data-role');
  step('ban the peer; its agent leaves the constellation');
  await page.goto(url + '#/peers');
  await page.click('tr[data-peer] button.danger');
  await page.waitForSelector('text=No peers are connected.');
  await shot(page, 'peers-after-ban');
  await page.goto(url + '#/constellation');
  await page.waitForSelector('tr[data-role="node"]');
  await page.waitForFunction((pid) => !document.querySelector(`tr[data-pid="${pid}"]`), found.peer_agent_pid);
  found.agent_vanished = true;

  step('wallet page');
  await page.goto(url + '#/wallet');
  await page.waitForSelector('#wallet-name');
  await page.fill('#receive-label', 'from the gui test');
  await page.click('text=New receiving address');
  await page.waitForSelector('#receive-address');
  found.receive_address = (await page.textContent('#receive-address')).trim();
  found.qr_drawn = await page.locator('svg.qr path').count() === 1;
  found.lock_state = await page.getAttribute('#wallet-lock', 'data-lock');
  // The three blocks mined to this wallet: in the history, with their confirmations.
  await page.waitForSelector('#h-history ~ .table-wrap tr[data-txid]');
  found.history = await page.$$eval('tr[data-txid]', (rows) => rows.map((r) => ({txid: r.dataset.txid,
    category: r.dataset.category, confirmations: Number(r.dataset.confirmations)})));
  await shot(page, 'wallet');

  step('send page: address check, fee estimate, confirmation step');
  await page.goto(url + '#/send');
  await page.waitForSelector('#send-form');
  await page.fill('#send-address', 'bcrt1qnotanaddress');
  await page.waitForSelector('#send-address-check.error');
  found.bad_address_check = await page.textContent('#send-address-check');
  await page.fill('#send-address', found.receive_address);
  await page.waitForSelector('#send-address-check.ok');
  found.good_address_check = await page.textContent('#send-address-check');
  await page.waitForFunction(() => document.getElementById('send-estimate').textContent.length > 0);
  found.fee_estimate = await page.textContent('#send-estimate');
  await page.selectOption('#send-fee', 'custom');
  await page.fill('#send-fee-rate', '2.5');
  found.custom_fee = await page.textContent('#send-estimate');
  await page.fill('#send-amount', '1.5');
  await page.click('#send-review');
  await page.waitForSelector('#confirm-address');
  found.confirm = {address: (await page.textContent('#confirm-address')).trim(),
    amount: (await page.textContent('#confirm-amount')).trim(),
    send_enabled: await page.isEnabled('#send-confirm-button')};
  found.send_disabled_reason = await page.locator('#send-disabled').count() ? await page.textContent('#send-disabled') : null;
  await shot(page, 'send-confirm');
  await page.click('#send-confirm >> text=Cancel');
  await shot(page, 'send');

  if (found.confirm.send_enabled) {
    // --- two wallets: the first (mature coinbases) pays the second through the pages; a block confirms it
    step('receive and send between two wallets through the pages');
    const tab = await context.newPage();
    watch(tab);
    await tab.goto(url + '#/console');
    await logIn(tab, '', cookie);
    await tab.waitForSelector('#console-input');
    const console2 = async (command) => {
      const before = await tab.locator('#console-output .result, #console-output .err').count();
      await tab.fill('#console-input', command);
      await tab.press('#console-input', 'Enter');
      await tab.locator('#console-output .result, #console-output .err').nth(before).waitFor();
      return tab.locator('#console-output .result, #console-output .err').nth(before).textContent();
    };
    const firstWallet = JSON.parse(await console2('listwallets'))[0];
    await console2('createwallet second');
    await console2(`generatetoaddress 101 ${found.receive_address}`);
    await page.goto(url + '#/wallet');
    await page.selectOption('#wallet-choice', 'second');
    await page.waitForFunction(() => document.getElementById('wallet-name').textContent === 'second');
    await page.click('text=New receiving address');
    await page.waitForSelector('#receive-address');
    found.second_address = (await page.textContent('#receive-address')).trim();
    await page.goto(url + '#/send');
    await page.selectOption('#wallet-choice', firstWallet);
    await page.waitForFunction((name) => document.getElementById('h-send').textContent.includes(name || 'default'),
      firstWallet);
    await page.fill('#send-address', found.second_address);
    await page.waitForSelector('#send-address-check.ok');
    await page.fill('#send-amount', '2');
    // Regtest has no fee estimates yet (and no -fallbackfee here): a typed rate, as a user would choose.
    await page.selectOption('#send-fee', 'custom');
    await page.fill('#send-fee-rate', '2');
    await page.click('#send-review');
    await page.click('#send-confirm-button');
    await page.waitForSelector('#sent-txid');
    found.sent_txid = (await page.textContent('#sent-txid')).trim();
    await shot(page, 'send-sent');
    await console2(`generatetoaddress 1 ${found.receive_address}`);
    await page.goto(url + '#/wallet');
    await page.selectOption('#wallet-choice', 'second');
    await page.waitForFunction(() => document.getElementById('wallet-name').textContent === 'second');
    await page.waitForSelector(`tr[data-txid="${found.sent_txid}"][data-confirmations="1"][data-category="receive"]`);
    found.second_received = await page.getAttribute(`tr[data-txid="${found.sent_txid}"]`, 'data-category');
    await shot(page, 'wallet-received');
    await tab.close();
  }

  // --- the dark theme
  await page.click('#theme');
  found.theme = await page.evaluate(() => document.documentElement.dataset.theme);
  await page.goto(url + '#/overview');
  await page.waitForSelector('#tip-height');
  await shot(page, 'overview-other-theme');

  // --- a phone: no page is wider than the screen
  step('phone-sized viewport');
  await page.setViewportSize({width: 360, height: 740});
  found.phone_overflow = {};
  for (const name of ['overview', 'blocks', `block/${found.block_hash}`, 'peers', 'constellation', 'wallet', 'send',
    'console']) {
    await page.goto(url + '#/' + name);
    await page.waitForFunction((page) => document.getElementById('page').dataset.page === page &&
      document.querySelector('#page h1') && !/Loading/.test(document.getElementById('page').textContent),
    name.split('/')[0]);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    found.phone_overflow[name.split('/')[0]] = overflow;
    await shot(page, `phone-${name.split('/')[0]}`);
  }
  found.page_errors = errors;
} catch (error) {
  step(`failed; the pages' errors: ${JSON.stringify(errors)}`);
  throw error;
} finally {
  await browser.close();
}
process.stdout.write(JSON.stringify(found) + '\n');
