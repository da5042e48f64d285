"""OPG's runtime APIs for substrate-interface, which only knows the runtime APIs its own
type registry lists (and reads no V15 metadata): ``InferenceApi``, ``ChannelsApi`` and
``ModelHubApi`` registered by hand, so that ``client.runtime_call("InferenceApi", "result",
[id])`` works.

The generic types a runtime API returns are the runtime's own storage types (a request, a
settled result, a channel…): they are taken from the storage items that hold them in the
chain's metadata (``scale_info::<id>``), so a change of those types needs no change here.
Types that appear only in a runtime API (a batch proof, a served call, a model's serving
record) are spelled out below from their Rust definitions (``pallet_inference::BatchProof``,
``opg_settlement::channel::ServedCall``, ``opg_settlement::merkle::Proof``,
``opg_primitives::ModelServing``); the dev-chain test checks them against the node's RPC.
"""

from __future__ import annotations


def _type_path_id(substrate, *path: str) -> str:
    """``scale_info::<id>`` of the metadata type whose path is ``path``."""
    registry = substrate.metadata.portable_registry.value["types"]
    for entry in registry:
        if tuple(entry["type"].get("path") or ()) == path:
            return f"scale_info::{entry['id']}"
    raise LookupError(f"the chain's metadata has no type {'::'.join(path)}")


def _storage_type(substrate, module: str, item: str) -> str:
    return substrate.get_metadata_storage_function(module, item).get_value_type_string()


def definitions(substrate) -> dict:
    """The type registry entries (``types`` and ``runtime_api``) of OPG's runtime APIs for
    the runtime ``substrate`` is connected to."""
    leaf = _type_path_id(substrate, "opg_settlement", "merkle", "Leaf")
    schema = _type_path_id(substrate, "opg_primitives", "schema", "Schema")
    modes = _type_path_id(substrate, "opg_primitives", "modes", "VerificationModes")
    tolerance = _type_path_id(substrate, "opg_primitives", "tolerance", "Tolerance")
    types = {
        "OpgMerkleProof": {"type": "struct", "type_mapping": [
            ["index", "u32"], ["leaf_count", "u32"], ["siblings", "Vec<[u8; 32]>"]]},
        "OpgBatchProof": {"type": "struct", "type_mapping": [
            ["batch", "u64"], ["node", "[u8; 32]"], ["root", "[u8; 32]"], ["signature", "[u8; 64]"],
            ["leaf", leaf], ["proof", "OpgMerkleProof"]]},
        "OpgServedCall": {"type": "struct", "type_mapping": [
            ["call_digest", "[u8; 32]"], ["response_digest", "[u8; 32]"], ["model_hash", "[u8; 32]"],
            ["mode", "u8"], ["amount", "u128"]]},
        "OpgModelServing": {"type": "struct", "type_mapping": [
            ["artifact_hash", "[u8; 32]"], ["artifact_size", "u64"], ["schema", schema], ["active", "bool"],
            ["price", "u128"], ["modes", modes], ["tolerance", f"Option<{tolerance}>"]]},
    }

    def method(params, returns):
        return {"params": [{"name": name, "type": type_} for name, type_ in params], "type": returns}

    inference = {
        "request": method([("id", "u64")], f"Option<{_storage_type(substrate, 'Inference', 'Requests')}>"),
        "input": method([("id", "u64")], f"Option<{_storage_type(substrate, 'Inference', 'Inputs')}>"),
        "result": method([("id", "u64")], f"Option<{_storage_type(substrate, 'Inference', 'Results')}>"),
        "batch_proof": method([("id", "u64")], "Option<OpgBatchProof>"),
        "assignments": method([("node", "[u8; 32]"), ("after", "Option<u64>"), ("limit", "u32")], "Vec<u64>"),
    }
    channels = {
        "channel": method([("id", "u64")], f"Option<{_storage_type(substrate, 'Channels', 'OpenChannels')}>"),
        "settlement": method([("id", "u64"), ("index", "u32")],
                             f"Option<{_storage_type(substrate, 'Channels', 'Settlements')}>"),
        "served_proof": method([("id", "u64"), ("index", "u32"), ("call", "OpgServedCall"),
                                ("proof", "OpgMerkleProof")], "bool"),
    }
    model_hub = {"serving": method([("model", "u32")], "Option<OpgModelServing>")}
    return {"types": types, "runtime_api": {
        "InferenceApi": {"methods": inference}, "ChannelsApi": {"methods": channels},
        "ModelHubApi": {"methods": model_hub}}}


def register(substrate) -> None:
    """Registers OPG's runtime APIs in ``substrate``'s type registry (for its current runtime)."""
    substrate.init_runtime()
    found = definitions(substrate)
    substrate.runtime_config.update_type_registry_types(found["types"])
    substrate.runtime_config.type_registry["runtime_api"].update(found["runtime_api"])
