"""opg.runtime_api: OPG's runtime APIs as substrate-interface's registry needs them, their
return types taken from the chain's own metadata (a fake chain here; the dev-chain test
calls them for real)."""

from types import SimpleNamespace

import pytest

from opg import runtime_api

PATHS = {
    ("opg_settlement", "merkle", "Leaf"): 178,
    ("opg_primitives", "schema", "Schema"): 159,
    ("opg_primitives", "modes", "VerificationModes"): 137,
    ("opg_primitives", "tolerance", "Tolerance"): 142,
}
STORAGE = {("Inference", "Requests"): 351, ("Inference", "Inputs"): 171, ("Inference", "Results"): 355,
           ("Channels", "OpenChannels"): 359, ("Channels", "Settlements"): 360}


def chain(paths=PATHS):
    types = [{"id": id_, "type": {"path": list(path)}} for path, id_ in paths.items()]
    types.append({"id": 1, "type": {"path": []}})

    def storage(module, item):
        return SimpleNamespace(get_value_type_string=lambda: f"scale_info::{STORAGE[(module, item)]}")

    return SimpleNamespace(metadata=SimpleNamespace(portable_registry=SimpleNamespace(value={"types": types})),
                           get_metadata_storage_function=storage)


def test_return_types_are_the_storage_items_types_and_api_only_types_are_spelled_out():
    found = runtime_api.definitions(chain())
    inference = found["runtime_api"]["InferenceApi"]["methods"]
    assert inference["result"] == {"params": [{"name": "id", "type": "u64"}], "type": "Option<scale_info::355>"}
    assert inference["request"]["type"] == "Option<scale_info::351>"
    assert inference["batch_proof"]["type"] == "Option<OpgBatchProof>"
    assert [p["type"] for p in inference["assignments"]["params"]] == ["[u8; 32]", "Option<u64>", "u32"]
    channels = found["runtime_api"]["ChannelsApi"]["methods"]
    assert channels["settlement"]["type"] == "Option<scale_info::360>"
    assert [p["type"] for p in channels["served_proof"]["params"]] == ["u64", "u32", "OpgServedCall", "OpgMerkleProof"]
    assert found["runtime_api"]["ModelHubApi"]["methods"]["serving"]["type"] == "Option<OpgModelServing>"
    batch = dict(found["types"]["OpgBatchProof"]["type_mapping"])
    assert batch["leaf"] == "scale_info::178" and batch["signature"] == "[u8; 64]"
    serving = dict(found["types"]["OpgModelServing"]["type_mapping"])
    assert serving == {"artifact_hash": "[u8; 32]", "artifact_size": "u64", "schema": "scale_info::159",
                       "active": "bool", "price": "u128", "modes": "scale_info::137",
                       "tolerance": "Option<scale_info::142>"}


def test_a_chain_without_a_type_they_need_is_refused_by_name():
    paths = dict(PATHS)
    del paths[("opg_settlement", "merkle", "Leaf")]
    with pytest.raises(LookupError, match="opg_settlement::merkle::Leaf"):
        runtime_api.definitions(chain(paths))
