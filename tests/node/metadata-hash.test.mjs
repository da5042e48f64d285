// Signing with CheckMetadataHash enabled, as offline signers (Ledger) and PAPI's
// `withMetadataHash` do: the runtime the node runs embeds the hash of its metadata
// (RFC-78, built with `opg-runtime/metadata-hash`), so a transaction whose signature
// commits to that hash is valid, and one committing to another hash is not. Through
// polkadot-api on Node 20, which has no global WebSocket (the `ws` package stands in).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Keyring } from '@polkadot/keyring';
import { cryptoWaitReady } from '@polkadot/util-crypto';
import { createClient } from 'polkadot-api';
import { getPolkadotSigner, withMetadataHash } from 'polkadot-api/signer';
import { getWsProvider } from 'polkadot-api/ws';
import WebSocket from 'ws';
import { startNode } from './helpers.mjs';

const OPG = 10n ** 18n;
let node;
let client;
let api;
let keyring;

/** A PAPI signer of the keyring pair `uri`. */
function signer(uri) {
  const pair = keyring.addFromUri(uri);
  return { pair, signer: getPolkadotSigner(pair.publicKey, 'Sr25519', (message) => pair.sign(message)) };
}

before(async () => {
  await cryptoWaitReady();
  keyring = new Keyring({ type: 'sr25519', ss58Format: 42 });
  node = await startNode(['--dev', '--tmp']);
  client = createClient(getWsProvider(node.url, { websocketClass: WebSocket }));
  api = client.getUnsafeApi();
});

after(async () => {
  client?.destroy();
  await node?.stop();
});

/** A transfer of `amount` to Dave, signed by `by` and included; its result. */
async function transfer(by, amount) {
  const dave = keyring.addFromUri('//Dave').address;
  const tx = api.tx.Balances.transfer_keep_alive({ dest: { type: 'Id', value: dave }, value: amount });
  return tx.signAndSubmit(by);
}

test('a transfer signed with the metadata hash (PAPI withMetadataHash) is valid', async () => {
  const { pair, signer: plain } = signer('//Alice');
  const hashed = withMetadataHash({ decimals: 18, tokenSymbol: 'OPG' }, plain);
  const dave = keyring.addFromUri('//Dave').address;
  const before = (await api.query.System.Account.getValue(dave)).data.free;
  const result = await transfer(hashed, 7n * OPG);
  assert.equal(result.ok, true, JSON.stringify(result.dispatchError));
  const after = (await api.query.System.Account.getValue(dave)).data.free;
  assert.equal(after - before, 7n * OPG);
  assert.ok(result.events.some((e) => e.type === 'Balances' && e.value.type === 'Transfer'
    && e.value.value.amount === 7n * OPG), `from ${pair.address}`);
});

test('a signature over another metadata hash is refused, and one without the hash still works', async () => {
  const { signer: plain } = signer('//Bob');
  // Another token symbol is another metadata digest: the signed payload no longer matches.
  const wrong = withMetadataHash({ decimals: 18, tokenSymbol: 'DOT' }, plain);
  await assert.rejects(transfer(wrong, OPG), /BadProof|bad signature|Invalid/i);
  const result = await transfer(plain, OPG);
  assert.equal(result.ok, true, 'mode Disabled is still accepted');
});
