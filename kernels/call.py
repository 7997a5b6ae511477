"""A compiled function called by its address: how the training loop runs a generated pass.

The lockstep training loop (:mod:`kernels.lockstep_loop`) is compiled once per machine
and serves every net. The passes generated for one net (:mod:`kernels.codegen`) are
compiled on their own as C functions of one fixed signature, :data:`PASS_SIGNATURE`, and
the loop calls the one it is given by address. A Numba function cannot take another
compiled function as an argument and stay in the disk cache, but an address is a plain
integer: the loop is compiled (and cached) once, each net adds only its pass.
"""

import threading
from collections.abc import Callable, Iterable
from typing import Any, cast

from llvmlite import binding as llvm
from llvmlite import ir
from numba import cfunc, types
from numba.core import cgutils
from numba.extending import intrinsic

from kernels.options import CFUNC_OPTIONS, source_keyed_cache

F64 = types.CPointer(types.float64)
I64 = types.CPointer(types.int64)
# weights, gradient, inputs (a row per input), targets, the shuffled order (a row per
# sample, a lane per run), learning rates, scores (total then correct), a group of
# picked samples' inputs and their targets (a row per input and sample); the first and
# past-the-last sample, the number of samples, of active lanes, and 1 / batch size; the
# net (kernels.lanes.NET_SHAPE) and the neurons' rows, which only the generic passes read.
PASS_SIGNATURE = types.void(
    F64, F64, F64, F64, I64, F64, F64, F64, F64,
    types.int64, types.int64, types.int64, types.int64, types.float64, I64, F64,
)  # fmt: skip
PASS_ARGS = "th, g, xt, y, order, lr, sc, xs, yl, start, stop, n, m, inv_m, net, work"


def _c_arguments(
    context: Any, builder: ir.IRBuilder, arg_types: list[Any], packed: Any
) -> tuple[list[ir.Type], list[ir.Value]]:
    """The C types and values of the tuple ``packed`` (of Numba types ``arg_types``):
    each array as the pointer to its data, each number as itself."""
    c_types = [
        context.get_value_type(t.dtype).as_pointer()
        if isinstance(t, types.Array)
        else context.get_value_type(t)
        for t in arg_types
    ]
    values = []
    for k, t in enumerate(arg_types):
        value = builder.extract_value(packed, k)
        if isinstance(t, types.Array):
            value = context.make_array(t)(context, builder, value).data
        values.append(value)
    return c_types, values


def _call_pass(typingctx: Any, address: types.Integer, args: types.BaseTuple) -> Any:
    """Call the C function at ``address`` with the values of the tuple ``args``: each
    array as the pointer to its data (C-contiguous, as the pass reads it), each number
    as itself. The function returns nothing."""
    if not isinstance(address, types.Integer) or not isinstance(args, types.BaseTuple):
        return None

    def codegen(context: Any, builder: ir.IRBuilder, signature: Any, llargs: Any) -> Any:
        c_types, values = _c_arguments(context, builder, list(signature.args[1]), llargs[1])
        function_type = ir.FunctionType(ir.VoidType(), c_types)
        builder.call(builder.inttoptr(llargs[0], function_type.as_pointer()), values)
        return context.get_dummy_value()

    return types.void(address, args), codegen


# Typed as what it is to the code that calls it (the typing arguments are Numba's).
call_pass: Any = intrinsic(_call_pass)


def calls_symbol(name: str, returns: Any = types.void) -> Any:
    """An intrinsic ``f(args)`` that calls the C function named ``name`` with the values
    of the tuple ``args`` (each C-contiguous array as the pointer to its data, each
    number as itself) and gives what it returns (``returns``, a Numba type), resolved
    when the caller's machine code is loaded: the name must be registered first
    (:func:`link`).

    A Numba function calling another links the callee's code into its own and LLVM
    optimises all of it again, at every level of calls above it; a call by name keeps
    the callee out of its callers' modules, optimised once, one copy of its machine
    code in every process. That copy matters for sums compiled with ``reassoc``: a
    call LLVM does not inline goes, in the process that compiled the caller, to the
    callee as compiled alone, and in a process that loaded the caller from the disk
    cache, to the caller's own copy, optimised again inside it; the two may add in
    another order (MAE losses 1 ulp apart, cold against warm). So the body of such a
    C function is inlined into it in Numba's IR (``inline="always"``): compiled
    nowhere else.
    """

    def typer(typingctx: Any, args: types.BaseTuple) -> Any:
        if not isinstance(args, types.BaseTuple):
            return None
        for t in cast(Iterable[Any], args):
            if isinstance(t, types.Array) and t.layout != "C":
                raise TypeError(f"{name}: arrays must be C-contiguous, got {t}")

        def codegen(context: Any, builder: ir.IRBuilder, signature: Any, llargs: Any) -> Any:
            c_types, values = _c_arguments(context, builder, list(signature.args[0]), llargs[0])
            result = ir.VoidType() if returns == types.void else context.get_value_type(returns)
            function = cgutils.get_or_insert_function(
                builder.module, ir.FunctionType(result, c_types), name
            )
            called = builder.call(function, values)
            return context.get_dummy_value() if returns == types.void else called

        return returns(args), codegen

    typer.__name__ = f"call_{name}"
    return intrinsic(typer)


# The C functions compiled code calls by name: (name, Python function, signature,
# fastmath flags), each declared by the module that defines it (by_name).
_declared: list[tuple[str, Callable[..., Any], Any, Any]] = []
_linked: list[Any] = []  # their compiled functions, kept alive; empty until all are named
_link_lock = threading.Lock()


def by_name(name: str, signature: Any, fastmath: Any) -> Callable[[Any], Any]:
    """Declare ``function`` a C function of ``signature`` that compiled code calls by
    ``name`` (:func:`calls_symbol`); compiled by :func:`link`."""

    def declare(function: Callable[..., Any]) -> Callable[..., Any]:
        _declared.append((name, function, signature, fastmath))
        return function

    return declare


def link() -> None:
    """Compile every declared C function (or load it from the disk cache) and register
    its name, once per process, before any compiled code that calls one first runs
    (:func:`kernels.train` and :func:`kernels.predict` do it). Thread-safe: a caller
    returns only once every name is registered (code calling a name that is not
    would crash the process)."""
    if _linked:
        return
    with _link_lock:
        if _linked:
            return
        compiled = []
        with source_keyed_cache():
            for name, function, signature, fastmath in _declared:
                c: Any = cfunc(signature, **{**CFUNC_OPTIONS, "fastmath": fastmath})(function)
                llvm.add_symbol(name, c.address)
                compiled.append(c)
        _linked.extend(compiled)
