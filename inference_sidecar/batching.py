"""Coalesce concurrent requests for one model into one batched model call.

Each model has one worker. It takes every waiting item (up to `max_size`) and runs them as
one batch in its own thread. Items that arrive while a batch runs queue up and form the
next batch, so under load batches grow by themselves. When the last batch held more than
one item (requests are arriving together) the worker also waits up to `max_wait_s` for
more before running; a lone request on an idle model is never delayed.
One batch in flight per model also keeps CPU models from fighting over the cores.
"""

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from inference_sidecar import metrics

log = logging.getLogger(__name__)


@dataclass
class _Pending:
    item: Any
    future: asyncio.Future


class Batcher:
    def __init__(
        self,
        name: str,
        run_batch: Callable[[list[Any]], Sequence[Any]],
        max_size: int,
        max_wait_s: float,
    ):
        self.name = name
        self._run_batch = run_batch
        self._max_size = max_size
        self._max_wait_s = max_wait_s
        self._concurrent = False  # did the last batch hold more than one item?
        self._queue: asyncio.Queue[_Pending] | None = None
        self._worker: asyncio.Task | None = None
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"batch-{name}")

    async def submit(self, item: Any) -> Any:
        """The model's result for one item; the model's exception if its batch failed."""
        self._ensure_worker()
        future = asyncio.get_running_loop().create_future()
        await self._queue.put(_Pending(item, future))
        return await future

    async def submit_many(self, items: list[Any]) -> list[Any]:
        return list(await asyncio.gather(*(self.submit(item) for item in items)))

    def _ensure_worker(self) -> None:
        if self._worker is None or self._worker.done():
            self._queue = self._queue or asyncio.Queue()
            self._worker = asyncio.get_running_loop().create_task(self._work())

    async def close(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
        self._thread.shutdown(wait=False, cancel_futures=True)

    async def _work(self) -> None:
        while True:
            batch = await self._collect()
            await self._run(batch)

    async def _collect(self) -> list[_Pending]:
        batch = [await self._queue.get()]
        deadline = time.monotonic() + (self._max_wait_s if self._concurrent else 0.0)
        while len(batch) < self._max_size:
            try:
                batch.append(self._queue.get_nowait())
                continue
            except asyncio.QueueEmpty:
                pass
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            try:
                batch.append(await asyncio.wait_for(self._queue.get(), remaining))
            except TimeoutError:
                break
        self._concurrent = len(batch) > 1
        return [pending for pending in batch if not pending.future.cancelled()]

    async def _run(self, batch: list[_Pending]) -> None:
        if not batch:
            return
        metrics.BATCH_SIZE.labels(model=self.name).observe(len(batch))
        loop = asyncio.get_running_loop()
        items = [pending.item for pending in batch]
        try:
            results = await loop.run_in_executor(self._thread, self._run_batch, items)
            if len(results) != len(items):
                raise RuntimeError(f"{self.name}: {len(results)} results for {len(items)} items")
        except Exception as e:  # every waiter gets the error; the worker lives on
            for pending in batch:
                _settle(pending.future, exception=e)
            return
        for pending, result in zip(batch, results, strict=True):
            _settle(pending.future, result=result)


def _settle(future: asyncio.Future, result: Any = None, exception: BaseException | None = None):
    if future.done():  # the client went away while its item was running
        return
    if exception is not None:
        future.set_exception(exception)
    else:
        future.set_result(result)
