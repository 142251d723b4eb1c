"""no_grad(): ops inside record nothing, per thread and per asyncio task."""

import asyncio
import threading

import pytest

from autograd_mini import Value, dot, is_grad_enabled, no_grad, sum_of
from autograd_mini.nn.losses import squared_error


def test_results_inside_no_grad_are_leaves():
    a, b = Value(2.0), Value(3.0)
    with no_grad():
        assert not is_grad_enabled()
        results = [a * b, a + 1, 2**a, a**b, -a, a.tanh(), a.sigmoid(), a.exp(), a.log(), a.sqrt(), a.relu(),
                   abs(a), sum_of([a, b]), dot([a], [b]), squared_error(a, b)]
    assert is_grad_enabled()
    for r in results:
        assert r.op is None and r.inputs == ()
    assert results[0].data == 6.0
    results[0].backward()
    assert a.grad == 0.0 and b.grad == 0.0


def test_nesting_restores_the_outer_state():
    assert is_grad_enabled()
    with no_grad():
        with no_grad():
            assert not is_grad_enabled()
        assert not is_grad_enabled()
        assert (Value(1.0) * 2).op is None
    assert is_grad_enabled()
    assert (Value(1.0) * 2).op.name == "mul"


def test_an_exception_inside_restores_recording():
    with pytest.raises(RuntimeError):
        with no_grad():
            raise RuntimeError("boom")
    assert is_grad_enabled()


def test_no_grad_as_a_decorator():
    @no_grad()
    def f(x):
        assert not is_grad_enabled()
        return x * x

    assert f(Value(3.0)).op is None
    assert is_grad_enabled()


def test_another_thread_keeps_recording_while_one_is_inside_no_grad():
    inside = threading.Event()
    checked = threading.Event()
    seen = {}

    def other():
        inside.wait(5)
        seen["enabled"] = is_grad_enabled()
        seen["op"] = (Value(1.0) * Value(2.0)).op
        checked.set()

    thread = threading.Thread(target=other)
    thread.start()
    with no_grad():
        inside.set()
        assert checked.wait(5)
        assert (Value(1.0) * 2).op is None  # still off here
    thread.join(5)
    assert seen["enabled"] is True
    assert seen["op"] is not None and seen["op"].name == "mul"


def test_no_grad_in_a_thread_does_not_leak_to_the_main_thread():
    entered = threading.Event()
    release = threading.Event()

    def other():
        with no_grad():
            entered.set()
            release.wait(5)

    thread = threading.Thread(target=other)
    thread.start()
    assert entered.wait(5)
    try:
        assert is_grad_enabled()
        assert (Value(1.0) + 1).op.name == "add"
    finally:
        release.set()
        thread.join(5)


def test_asyncio_tasks_are_isolated():
    async def quiet(inside, done):
        with no_grad():
            inside.set()
            await done.wait()
            return is_grad_enabled(), (Value(1.0) * 3).op

    async def loud(inside, done):
        await inside.wait()
        result = is_grad_enabled(), (Value(1.0) * 3).op
        done.set()
        return result

    async def main():
        inside, done = asyncio.Event(), asyncio.Event()
        return await asyncio.gather(quiet(inside, done), loud(inside, done))

    (quiet_enabled, quiet_op), (loud_enabled, loud_op) = asyncio.run(main())
    assert quiet_enabled is False and quiet_op is None
    assert loud_enabled is True and loud_op.name == "mul"
    assert is_grad_enabled()
