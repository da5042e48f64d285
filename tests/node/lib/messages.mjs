// The messages OPG keys sign: @opg/sdk's builders (sdk/ts/src/messages.ts, checked byte for
// byte against primitives/settlement/vectors/messages.json by sdk/ts/test/), under the names
// these tests and scripts use. One definition of each message in JS: the SDK's.
import * as messages from '@opg/sdk/messages';

export const { DOMAINS, CANNOT_SERVE, callDigest } = messages;
export const resultMessage = messages.result;
export const batchMessage = messages.batch;
export const registrationMessage = messages.registration;
export const provenanceMessage = messages.provenance;
export const cannotServeMessage = messages.cannotServe;
export const artifactReadMessage = messages.artifactRead;
export const heartbeatMessage = messages.heartbeat;
export const voucherMessage = messages.voucher;
export const channelSettlementMessage = messages.channelSettlement;
export const directAnswerMessage = messages.directAnswer;
export const llmAnswerMessage = messages.llmAnswer;
