// A --dev --tmp node: block production, finality, a transfer by a third-party client,
// metadata and storage decoding with no custom types, and rejection of bad extrinsics.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { WsProvider } from '@polkadot/api';
import { u8aToHex } from '@polkadot/util';
import { rpc } from './lib/chain.mjs';
import { finalizedNumber, startDevChain, waitFor } from './helpers.mjs';

let dev;
let api;
let keyring;

before(async () => {
  dev = await startDevChain();
  ({ api, keyring } = dev);
});

after(async () => {
  await dev?.stop();
});

test('the chain identifies itself as OPG with the OPG token', async () => {
  const [chain, properties] = await Promise.all([api.rpc.system.chain(), api.rpc.system.properties()]);
  assert.equal(chain.toString(), 'OPG Development');
  assert.equal(properties.tokenSymbol.unwrap()[0].toString(), 'OPG');
  assert.equal(properties.tokenDecimals.unwrap()[0].toNumber(), 18);
  assert.equal(api.runtimeVersion.specName.toString(), 'opg');
});

test('blocks are produced and finalized (finalized >= 3)', async () => {
  await waitFor('finalized block >= 3', () => finalizedNumber(api), (n) => n >= 3, 90000);
  const head = await api.rpc.chain.getFinalizedHead();
  const header = await api.rpc.chain.getHeader(head);
  const canonical = await api.rpc.chain.getBlockHash(header.number.toNumber());
  assert.equal(canonical.toHex(), head.toHex(), 'the finalized block is the canonical block at its height');
  const logs = header.digest.logs;
  const claim = logs.find((log) => log.isPreRuntime && log.asPreRuntime[0].toString() === 'BABE');
  assert.ok(claim, 'authored in a BABE slot');
  // Every slot claim carries a VRF output (primary or secondary VRF slots only): it seeds
  // the next block's inference assignments.
  const preDigest = api.registry.createType('RawBabePreDigest', claim.asPreRuntime[1]);
  assert.ok(preDigest.isPrimary || preDigest.isSecondaryVRF, `a VRF slot claim, not ${preDigest.type}`);
  assert.ok(logs.some((log) => log.isSeal), 'sealed by its author');
});

test('a transfer signed by @polkadot/api is included with its Transfer event and fee', async () => {
  const alice = keyring.addFromUri('//Alice');
  const dave = keyring.addFromUri('//Dave');
  const amount = 12n * 10n ** 18n;
  const before = (await api.query.system.account(dave.address)).data.free.toBigInt();

  const events = await new Promise((resolve, reject) => {
    api.tx.balances.transferKeepAlive(dave.address, amount)
      .signAndSend(alice, ({ status, events, dispatchError }) => {
        if (dispatchError) reject(new Error(dispatchError.toString()));
        if (status.isInBlock) resolve(events);
      })
      .catch(reject);
  });
  const transfer = events.find(({ event }) => api.events.balances.Transfer.is(event));
  assert.ok(transfer, 'Transfer event');
  assert.equal(transfer.event.data[0].toString(), alice.address);
  assert.equal(transfer.event.data[1].toString(), dave.address);
  assert.equal(transfer.event.data[2].toBigInt(), amount);
  assert.ok(events.some(({ event }) => api.events.transactionPayment.TransactionFeePaid.is(event)));
  assert.ok(events.some(({ event }) => api.events.system.ExtrinsicSuccess.is(event)));
  const afterBalance = (await api.query.system.account(dave.address)).data.free.toBigInt();
  assert.equal(afterBalance - before, amount);
});

test('every pallet, call, event and storage type decodes from metadata alone', async () => {
  const versions = (await api.call.metadata.metadataVersions()).map((v) => v.toNumber());
  for (const version of [14, 15, 16]) assert.ok(versions.includes(version), `metadata v${version} offered`);
  assert.ok((await api.call.metadata.metadataAtVersion(15)).isSome);
  const metadata = api.runtimeMetadata;

  const lookup = api.registry.lookup;
  let storageItems = 0;
  for (const pallet of metadata.asLatest.pallets) {
    if (pallet.storage.isNone) continue;
    for (const item of pallet.storage.unwrap().items) {
      const typeId = item.type.isPlain ? item.type.asPlain : item.type.asMap.value;
      const typeName = lookup.getTypeDef(typeId).type;
      assert.ok(typeName && !typeName.includes('Unknown'), `${pallet.name}.${item.name}: ${typeName}`);
      api.registry.createType(lookup.getSiType(typeId) && `Lookup${typeId.toNumber()}`);
      storageItems += 1;
    }
  }
  assert.ok(storageItems > 50, `${storageItems} storage items`);
  // Real values of every plain storage item decode too.
  for (const [section, methods] of Object.entries(api.query)) {
    // `substrate.*` are the well-known raw keys (`:code`, `:heappages`), not SCALE values.
    if (section === 'substrate') continue;
    for (const [method, query] of Object.entries(methods)) {
      if (query.creator.meta.type.isPlain) {
        // The decoded value encodes back to exactly the stored bytes (or is the default).
        const [value, raw] = await Promise.all([query(), rpc(dev.node.url, 'state_getStorage', query.key())]);
        const optional = query.creator.meta.modifier.isOptional;
        if (raw === null) {
          assert.ok(optional ? value.isNone : true, `${section}.${method}: absent, so None`);
        } else {
          const inner = optional ? value.unwrap() : value;
          assert.equal(u8aToHex(inner.toU8a()), raw, `${section}.${method} re-encodes to its stored bytes`);
        }
      }
    }
  }
  assert.ok(api.tx.referenda.submit && api.tx.convictionVoting.vote && api.tx.validatorSet.addValidator);
  assert.equal(api.consts.referenda.tracks.length, 4);
});

test('malformed and invalid extrinsics are rejected with clear errors', async () => {
  // Raw bytes straight to the node, past the client's own checks.
  const raw = new WsProvider(dev.node.url);
  try {
    await raw.isReady;
    await assert.rejects(raw.send('author_submitExtrinsic', ['0x0102030405']), /Could not decode/);
  } finally {
    await raw.disconnect();
  }
  const ferdie = keyring.addFromUri('//Ferdie');
  const pauper = keyring.addFromUri('//NoFunds');
  const tooPoor = api.tx.balances.transferKeepAlive(ferdie.address, 1n);
  await assert.rejects(tooPoor.signAndSend(pauper), /Inability to pay some fees|1010/);
  const alice = keyring.addFromUri('//Alice');
  const stale = api.tx.balances.transferKeepAlive(ferdie.address, 1n);
  await assert.rejects(stale.signAndSend(alice, { nonce: 0 }), /Transaction is outdated|1010/);
});
