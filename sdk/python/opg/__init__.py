"""OPG's Python client.

This first part is the evidence: the exact bytes every OPG key signs
(:mod:`opg.messages`, the same as the Rust crate ``opg_settlement::message``, checked
against its committed test vectors) and the checks of those signatures
(:mod:`opg.evidence`), and the Merkle trees of batches and served calls
(:mod:`opg.merkle`) and Groth16 ZKML proofs (:mod:`opg.groth16`), so that a Python caller can verify an answer without reading
OPG's Rust code.
"""

from opg import evidence, groth16, merkle, messages

__all__ = ["evidence", "groth16", "merkle", "messages"]
