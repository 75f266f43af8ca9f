"""Reading XLA's FFI call frame from numba: the kernels' side of `jax.ffi`.

XLA calls a typed FFI handler as `XLA_FFI_Error* handler(XLA_FFI_CallFrame*)`.
A numba `cfunc` with the signature `voidptr(voidptr)` is such a handler, and
needs no C compiler.  The structs below are read as arrays of 64-bit words;
their layout is the one of `xla/ffi/api/c_api.h` (under `jax.ffi.include_dir()`)
at API version 0.3, on a 64-bit platform.

A handler is called at several stages.  It answers XLA's metadata query (which
API version it was written for; XLA refuses to register an incompatible one),
does its work at the execute stage only, and returns NULL: success.  Buffers
are read as float32, row-major, with the ranks each handler expects: what
recurrence.py passes.  Nothing is checked at run time, where a mistake would
crash the process rather than raise; `available()` runs the probe first.
"""

import numpy as np
from numba import carray, cfunc, njit, types
from numba.core import cgutils
from numba.extending import intrinsic

# The FFI API version this module reads the structs of.
API_VERSION = (0, 3)

HANDLER_SIGNATURE = types.voidptr(types.voidptr)
# Argument types given up front: numba would otherwise compile a helper once for
# every constant it is called with (each index of arg3(frame, 3) as a literal).
_WORDS = types.int64[::1]
_FRAME_INDEX = (_WORDS, types.int64)

# Word offsets in XLA_FFI_CallFrame: struct_size, extension_start, api, ctx,
# stage, then XLA_FFI_Args (struct_size, extension_start, size, types, args)
# and XLA_FFI_Rets (the same, ending in rets).
_EXTENSION_START = 1
_STAGE = 4
_ARGS_TABLE = 9
_RETS_TABLE = 14
_CALL_FRAME_WORDS = 15
_STAGE_EXECUTE = 3
# XLA_FFI_Extension_Base: struct_size, type, next; the metadata extension then
# points at an XLA_FFI_Metadata, whose api_version's major and minor are its
# 7th and 8th 32-bit words.
_METADATA_EXTENSION = 1
_METADATA_POINTER = 3
_API_MAJOR_WORD32 = 6
# XLA_FFI_Buffer: struct_size, extension_start, dtype, data, rank, dims.
_BUFFER_DATA = 3
_BUFFER_DIMS = 5


@intrinsic
def as_pointer(typingctx, address):
    """An integer address as a `void*` (numba has no cast for it)."""

    def codegen(context, builder, signature, args):
        return builder.inttoptr(args[0], cgutils.voidptr_t)

    return types.voidptr(address), codegen


@njit((types.int64, types.int64), cache=True)
def _words(address, count):
    return carray(as_pointer(address), (count,), np.int64)


@njit(cache=True)
def start(frame_pointer):
    """The call frame's words, and whether the handler should run its kernel.

    False at every stage but execute, and for XLA's metadata query, which is
    answered here.
    """
    frame = carray(frame_pointer, (_CALL_FRAME_WORDS,), np.int64)
    extension = frame[_EXTENSION_START]
    if extension != 0:
        base = _words(extension, _METADATA_POINTER + 1)
        if base[1] & 0xFFFFFFFF == _METADATA_EXTENSION:
            metadata = carray(as_pointer(base[_METADATA_POINTER]), (8,), np.int32)
            metadata[_API_MAJOR_WORD32] = API_VERSION[0]
            metadata[_API_MAJOR_WORD32 + 1] = API_VERSION[1]
            return frame, False
    return frame, frame[_STAGE] & 0xFFFFFFFF == _STAGE_EXECUTE


@njit((_WORDS, types.int64, types.int64, types.int64), cache=True)
def _data_and_dims(frame, table, index, rank):
    """The data address and the dimensions of argument or result `index`."""
    buffer_address = _words(frame[table], index + 1)[index]
    buffer = _words(buffer_address, _BUFFER_DIMS + 1)
    return buffer[_BUFFER_DATA], _words(buffer[_BUFFER_DIMS], rank)


@njit(_FRAME_INDEX, cache=True)
def arg1(frame, index):
    data, dims = _data_and_dims(frame, _ARGS_TABLE, index, 1)
    return carray(as_pointer(data), (dims[0],), np.float32)


@njit(_FRAME_INDEX, cache=True)
def arg2(frame, index):
    data, dims = _data_and_dims(frame, _ARGS_TABLE, index, 2)
    return carray(as_pointer(data), (dims[0], dims[1]), np.float32)


@njit(_FRAME_INDEX, cache=True)
def arg3(frame, index):
    data, dims = _data_and_dims(frame, _ARGS_TABLE, index, 3)
    return carray(as_pointer(data), (dims[0], dims[1], dims[2]), np.float32)


@njit(_FRAME_INDEX, cache=True)
def result1(frame, index):
    data, dims = _data_and_dims(frame, _RETS_TABLE, index, 1)
    return carray(as_pointer(data), (dims[0],), np.float32)


@njit(_FRAME_INDEX, cache=True)
def result2(frame, index):
    data, dims = _data_and_dims(frame, _RETS_TABLE, index, 2)
    return carray(as_pointer(data), (dims[0], dims[1]), np.float32)


@njit(_FRAME_INDEX, cache=True)
def result3(frame, index):
    data, dims = _data_and_dims(frame, _RETS_TABLE, index, 3)
    return carray(as_pointer(data), (dims[0], dims[1], dims[2]), np.float32)


@njit(cache=True)
def as_one_step(array):
    """A (D, T, B) array as (D, 1, T * B), all steps as one long batch: a view made
    from the address, as numba's `reshape` compiles its error messages, slowly."""
    features, steps, batch = array.shape
    return carray(as_pointer(array.ctypes.data), (features, 1, steps * batch), np.float32)


@njit(cache=True)
def as_step(array):
    """A (U, B) array as (U, 1, B): one step of a (U, T, B) array."""
    return carray(as_pointer(array.ctypes.data), (array.shape[0], 1, array.shape[1]), np.float32)


@njit(cache=True)
def null():
    return as_pointer(0)


@cfunc(HANDLER_SIGNATURE, cache=True)
def probe_handler(frame_pointer):
    """result 0 = argument 0 + 1: proves that the frame is read as XLA writes it."""
    frame, run = start(frame_pointer)
    if run:
        source, target = arg2(frame, 0), result2(frame, 0)
        for i in range(source.shape[0]):
            for j in range(source.shape[1]):
                target[i, j] = source[i, j] + 1.0
    return null()
