// A client of direct paid inference (docs/direct-inference.md) as a dApp writes it with
// fetch and @polkadot/api: vouchers in x402 v2's PAYMENT-SIGNATURE header, the 402's
// PAYMENT-REQUIRED, the paid answer's PAYMENT-RESPONSE and evidence, payment channels.
// Used by tests/node/direct.test.mjs, scripts/inference-demo.mjs and scripts/direct-bench.mjs.
import { hexToU8a, u8aToHex } from '@polkadot/util';
import { sha256AsU8a, signatureVerify } from '@polkadot/util-crypto';
import { eventOf, send } from './chain.mjs';
import { HEADERS, PATHS } from './executor.mjs';
import { callDigest, directAnswerMessage, voucherMessage } from './messages.mjs';

/** base64 of JSON, a payment header's value. */
export const base64Json = (value) => Buffer.from(JSON.stringify(value)).toString('base64');
/** The JSON of a payment header's value. */
export const fromBase64Json = (text) => JSON.parse(Buffer.from(text, 'base64').toString('utf8'));

/** The public inference path of a model: what a voucher's call digest names. */
export const inferPath = (modelHash) => `${PATHS.infer}/${modelHash}`;

/**
 * The PAYMENT-SIGNATURE value of `signer`'s (a keyring pair) voucher for `cumulative` on
 * `channel` of chain `genesis` (bytes or hex), paying the call of `path` with `body`.
 */
export function voucherHeader(api, signer, genesis, channel, cumulative, path, body) {
  const network = typeof genesis === 'string' ? genesis : u8aToHex(genesis);
  const message = voucherMessage(hexToU8a(network), channel, cumulative, callDigest(path, body));
  const kind = { sr25519: 'Sr25519', ed25519: 'Ed25519', ecdsa: 'Ecdsa' }[signer.type];
  const signature = api.createType('MultiSignature', { [kind]: signer.sign(message) }).toHex();
  return base64Json({
    x402Version: 2,
    scheme: 'opg-channel',
    network,
    payload: { channel: String(channel), cumulative: cumulative.toString(), signature },
  });
}

/** Opens a channel of `deposit` from `client` to `node` (its key) until `blocks` from now; its id. */
export async function openChannel(api, client, node, deposit, blocks = 2000) {
  const best = (await api.rpc.chain.getHeader()).number.toNumber();
  const events = await send(api, api.tx.channels.open(node, deposit, best + blocks), client);
  return eventOf(events, api.events.channels.Opened).data.channel.toNumber();
}

/**
 * Checks a direct answer alone: the node key's evidence over the call, the response and
 * the cumulative amount paid (0 for a free model).
 */
export function verifyAnswer(genesis, modelHash, path, body, output, cumulative, signature, node) {
  const message = directAnswerMessage(genesis, hexToU8a(modelHash), callDigest(path, body), sha256AsU8a(output),
    cumulative);
  return signatureVerify(message, signature, node).isValid;
}

export { HEADERS };
