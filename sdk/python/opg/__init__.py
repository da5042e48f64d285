"""OPG's Python client.

- :mod:`opg.client`: ``Client(url, signer)``, the chain (model hub, on-chain inference,
  payment channels, node registry) and direct paid calls to a node's gateway, with
  ``client.verify(answer)`` naming every check of an answer's evidence;
  (its parts: :mod:`opg.hub`, the model hub, channels and node registry; :mod:`opg.types`,
  the SDK's units, flags, errors and records; :mod:`opg.aio`, the async twin);
- :mod:`opg.gateway`: the executor's HTTP contract (402 offers, vouchers, paid answers);
  :mod:`opg.proxy`, ``opg proxy``'s OpenAI-compatible server of verified answers;
- :mod:`opg.messages`: the exact bytes every OPG key signs (the same as the Rust crate
  ``opg_settlement::message``, checked against its committed test vectors), and
  :mod:`opg.evidence` the checks of those signatures;
- :mod:`opg.merkle`: the Merkle trees of batches and served calls; :mod:`opg.groth16`:
  Groth16 ZKML proofs and their statement;
- :mod:`opg.cli`: the ``opg`` command.
"""

from opg import evidence, gateway, groth16, merkle, messages

__all__ = ["evidence", "gateway", "groth16", "merkle", "messages"]
