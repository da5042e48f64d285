#!/usr/bin/env python3
"""The official `openai` Python client against an executor serving a language model:
what llm_tests.rs runs (`openai_client.py BASE_URL MODEL`). Prints one JSON object of
what it saw; exits non-zero with a reason when the client fails."""

import json
import sys

import openai

base_url, model = sys.argv[1], sys.argv[2]
client = openai.OpenAI(base_url=f"{base_url}/v1", api_key="unused", max_retries=0)
question = [{"role": "user", "content": "What is the capital of France?"}]

listed = [m.id for m in client.models.list().data]

whole = client.chat.completions.create(model=model, messages=question, temperature=0, max_tokens=24, seed=5)
streamed_text, last = "", None
for chunk in client.chat.completions.create(
    model=model, messages=question, temperature=0, max_tokens=24, seed=5, stream=True,
    stream_options={"include_usage": True},
):
    if chunk.choices and chunk.choices[0].delta.content:
        streamed_text += chunk.choices[0].delta.content
    last = chunk

completion = client.completions.create(model=model, prompt="The capital of France is", max_tokens=4, temperature=0)

try:
    client.chat.completions.create(model="no-such-model", messages=question)
    unknown = None
except openai.NotFoundError as error:
    unknown = error.body

print(json.dumps({
    "listed": listed,
    "content": whole.choices[0].message.content,
    "finish_reason": whole.choices[0].finish_reason,
    "usage": whole.usage.model_dump(),
    "opg": whole.model_extra.get("opg"),
    "streamed": streamed_text,
    "stream_finish_reason": last.choices[0].finish_reason if last and last.choices else None,
    "stream_usage": last.usage.model_dump() if last and last.usage else None,
    "stream_opg": (last.model_extra or {}).get("opg") if last else None,
    "completion": completion.choices[0].text,
    "unknown_model": unknown,
}))
