"""Where each kind of server says how long a model's context window is.

- OpenRouter's `/models`: `context_length` (and `top_provider.context_length`);
- vLLM's `/models`: `max_model_len`;
- LM Studio's `/api/v0/models/{id}`: `max_context_length` (`loaded_context_length` once
  loaded, which is what the server will take);
- llama.cpp's `/props`: `default_generation_settings.n_ctx` (or `n_ctx`);
- Ollama's `/api/show`: `model_info["<architecture>.context_length"]`, or `num_ctx` in
  its `parameters` (what the server actually allocates, when set).
Read from the raw JSON; anything unexpected means "unknown", never a guess.
"""

from __future__ import annotations

from typing import Any

LARGEST_WINDOW = 100_000_000


def _count(value: object) -> int | None:
    if type(value) is int and 0 < value <= LARGEST_WINDOW:
        return value
    return None


def from_models_list(body: object, model: str) -> int | None:
    """OpenRouter's, vLLM's and LM Studio's model lists (`{"data": [...]}`)."""
    data = body.get("data") if isinstance(body, dict) else body
    for entry in data if isinstance(data, list) else []:
        if isinstance(entry, dict) and entry.get("id") == model:
            return from_model_entry(entry)
    return None


def from_model_entry(entry: dict[str, Any]) -> int | None:
    for key in ("loaded_context_length", "max_model_len", "context_length", "max_context_length"):
        if (count := _count(entry.get(key))) is not None:
            return count
    provider = entry.get("top_provider")
    if isinstance(provider, dict):
        return _count(provider.get("context_length"))
    return None


def from_model_entry_body(body: object) -> int | None:
    """LM Studio's `/api/v0/models/{id}`: one model's entry."""
    return from_model_entry(body) if isinstance(body, dict) else None


def from_llama_cpp_props(body: object) -> int | None:
    if not isinstance(body, dict):
        return None
    settings = body.get("default_generation_settings")
    if isinstance(settings, dict) and (count := _count(settings.get("n_ctx"))) is not None:
        return count
    return _count(body.get("n_ctx"))


def from_ollama_show(body: object) -> int | None:
    if not isinstance(body, dict):
        return None
    parameters = body.get("parameters")
    if isinstance(parameters, str):
        for line in parameters.splitlines():
            name, _, value = line.partition(" ")
            if name == "num_ctx" and value.strip().isdigit():
                return _count(int(value.strip()))
    info = body.get("model_info")
    if isinstance(info, dict):
        for key, value in info.items():
            if isinstance(key, str) and key.endswith(".context_length"):
                return _count(value)
    return None
