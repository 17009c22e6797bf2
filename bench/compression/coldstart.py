"""One cold start of the engine, in a fresh process: imports, then model load (JSON on stdout)."""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path


def main() -> None:
    c0, t0 = time.process_time(), time.perf_counter()
    import torch  # noqa: F401

    t1 = time.perf_counter()
    import llmlingua  # noqa: F401 - transformers, tiktoken, nltk come with it

    t2 = time.perf_counter()
    from gateway.compression.engine_inprocess import InProcessEngine

    engine = InProcessEngine(Path(sys.argv[1]))
    engine.load()
    t3 = time.perf_counter()
    engine.compress_sync(["A first short request warms the kernels. " * 20], 0.5, ["\n"])
    t4 = time.perf_counter()
    print(
        json.dumps(
            {
                "import_torch_s": t1 - t0,
                "import_llmlingua_s": t2 - t1,
                "model_load_s": t3 - t2,
                "first_compress_s": t4 - t3,
                "total_s": t4 - t0,
                "total_cpu_s": time.process_time() - c0,  # not inflated by other processes
                "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            }
        )
    )


if __name__ == "__main__":
    main()
