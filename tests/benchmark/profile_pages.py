"""CPU cost of each benchmarked page, in-process, for finding where page time goes.

    python -m tests.benchmark.profile_pages DATABASE_URL [--repeat 30] [--page NAME] [--profile]

Against a copy of a benchmark dataset (read-only use), it logs in the way the load clients do
(a dealer manager of a dealer with orders, and HQ), requests each page of DESIGN §10 through
Flask's test client and prints the mean CPU milliseconds per request; --profile prints the
top functions of one page by cumulative time. Figures of record come from `tests.benchmark.run`,
which measures the production server under load; this is the microscope.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import time

from portal import create_app
from portal.db import make_engine
from tests.benchmark import latency


def _logged_in(app, client: latency.Client):
    test_client = app.test_client()
    test_client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "zh-CN,zh;q=0.9"
    page = test_client.get("/login").get_data(as_text=True)
    token = latency._CSRF.search(page)
    response = test_client.post("/login", data={
        "username": client.username, "password": client.password,
        "csrf_token": token.group(1) if token else ""})
    if response.status_code != 302:
        raise RuntimeError(f"{client.username} could not log in ({response.status_code})")
    return test_client


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m tests.benchmark.profile_pages", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("database_url")
    p.add_argument("--repeat", type=int, default=30)
    p.add_argument("--page", help="only this page (a name from tests/benchmark/latency.py)")
    p.add_argument("--profile", action="store_true", help="cProfile the page (needs --page)")
    args = p.parse_args(argv)

    engine = make_engine(args.database_url)
    users = latency.clients(engine, 2, hq_share=0.5)
    engine.dispose()
    app = create_app({"DATABASE_URL": args.database_url, "RUN_JOBS": False})
    for user in users:
        test_client = _logged_in(app, user)
        for name, path in user.pages.items():
            if args.page and name != args.page:
                continue
            test_client.get(path, follow_redirects=True)  # warm-up
            profiler = cProfile.Profile() if args.profile else None
            began = time.process_time()
            for _ in range(args.repeat):
                if profiler:
                    profiler.enable()
                response = test_client.get(path, follow_redirects=True)
                if profiler:
                    profiler.disable()
                assert response.status_code == 200, (path, response.status_code)
            cpu_ms = 1000 * (time.process_time() - began) / args.repeat
            print(f"{name:28} {path:32} {cpu_ms:7.1f} ms CPU/request", flush=True)
            if profiler:
                pstats.Stats(profiler).sort_stats("cumulative").print_stats(45)


if __name__ == "__main__":
    main()
