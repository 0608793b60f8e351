// The npm `bitcoin-core` client, unchanged, against a running Orrery: JSON-RPC
// (single calls, a batch, a wallet URL, an error) and its REST helpers. Prints
// one JSON object of what it got; tests/functional/test_clients.py compares it
// with what orrery-cli says. Environment: ORRERY_RPC_URL (http://127.0.0.1:<port>),
// ORRERY_RPC_USER and ORRERY_RPC_PASSWORD (the cookie's two halves).
'use strict';

const Client = require('bitcoin-core');

async function main() {
  const client = new Client({
    host: process.env.ORRERY_RPC_URL,
    username: process.env.ORRERY_RPC_USER,
    password: process.env.ORRERY_RPC_PASSWORD,
    wallet: 'default'
  });
  const out = {};
  const address = await client.getNewAddress();
  out.address = address;
  out.mined = await client.generateToAddress(2, address);
  out.count = await client.getBlockCount();
  out.best = await client.getBestBlockHash();
  out.batch = await client.command([
    { method: 'getblockhash', parameters: [0] },
    { method: 'getblockhash', parameters: [1] }
  ]);
  try {
    await client.command('nosuchmethod');
    out.error = null;
  } catch (e) {
    out.error = { code: e.code, message: e.message };
  }
  out.walletinfo = await client.getWalletInfo();
  // REST
  out.rest_block = await client.getBlockByHash(out.best);
  out.rest_block_summary = await client.getBlockByHash(out.best, { summary: true });
  out.rest_headers = await client.getBlockHeadersByHash(out.batch[1], 2);
  out.rest_chaininfo = await client.getBlockchainInformation();
  out.rest_mempool = await client.getMemoryPoolInformation();
  const coinbase = out.rest_block.tx[0].txid;
  out.rest_utxos = await client.getUnspentTransactionOutputs([{ id: coinbase, index: 0 }]);
  const raw = await client.getBlockByHash(out.best, { extension: 'bin' });
  out.rest_block_bin_hex = raw.toString('hex');
  process.stdout.write(JSON.stringify(out) + '\n');
}

main().catch(error => {
  process.stderr.write(`${error.stack || error}\n`);
  process.exit(1);
});
