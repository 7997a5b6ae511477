"""A compiled function called by its address: how the training loop runs a generated pass.

The lockstep training loop (:mod:`kernels.lockstep_loop`) is compiled once per machine
and serves every net. The passes generated for one net (:mod:`kernels.codegen`) are
compiled on their own as C functions of one fixed signature, :data:`PASS_SIGNATURE`, and
the loop calls the one it is given by address. A Numba function cannot take another
compiled function as an argument and stay in the disk cache, but an address is a plain
integer: the loop is compiled (and cached) once, each net adds only its pass.
"""

from typing import Any

from llvmlite import ir
from numba import types
from numba.extending import intrinsic

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


def _call_pass(typingctx: Any, address: types.Integer, args: types.BaseTuple) -> Any:
    """Call the C function at ``address`` with the values of the tuple ``args``: each
    array as the pointer to its data (C-contiguous, as the pass reads it), each number
    as itself. The function returns nothing."""
    if not isinstance(address, types.Integer) or not isinstance(args, types.BaseTuple):
        return None

    def codegen(context: Any, builder: ir.IRBuilder, signature: Any, llargs: Any) -> Any:
        arg_types = list(signature.args[1])
        pointer_or_value = [
            context.get_value_type(t.dtype).as_pointer()
            if isinstance(t, types.Array)
            else context.get_value_type(t)
            for t in arg_types
        ]
        function = builder.inttoptr(
            llargs[0], ir.FunctionType(ir.VoidType(), pointer_or_value).as_pointer()
        )
        values = []
        for k, t in enumerate(arg_types):
            value = builder.extract_value(llargs[1], k)
            if isinstance(t, types.Array):
                value = context.make_array(t)(context, builder, value).data
            values.append(value)
        builder.call(function, values)
        return context.get_dummy_value()

    return types.void(address, args), codegen


# Typed as what it is to the code that calls it (the typing arguments are Numba's).
call_pass: Any = intrinsic(_call_pass)
