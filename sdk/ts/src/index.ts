// @opg/sdk: OPG's TypeScript client (README.md).
export {
  Client, Channels, Models, Nodes, Verification, type ConnectOptions, type DirectOptions, type InferOptions, type PublishSpec, type TensorSpec,
} from './client.js';
export {
  CHAT_COMPLETIONS_PATH, DirectAnswer, Gateway, GatewayError, INFER_PATH, LlmAnswer, PaymentRequired, type Offer,
  decodeHeader, encodeHeader, inferPath, parseOffer, voucherHeader,
} from './gateway.js';
export { devSigner, fromSecret, fromSeed, polkadotSigner, type Signer } from './signer.js';
export * from './types.js';
export * as bytes from './bytes.js';
export * as evidence from './evidence.js';
export * as groth16 from './groth16.js';
export * as merkle from './merkle.js';
export * as messages from './messages.js';
