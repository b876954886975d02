"""Naive GGUF (v2/v3) reader: metadata and tensor directory, data left in a read-only memmap.

Layout (all little-endian):
    uint32 magic "GGUF" | uint32 version | uint64 tensor_count | uint64 kv_count
    kv_count x { gguf_string key | uint32 value_type | value }
    tensor_count x { gguf_string name | uint32 n_dims | uint64 dims[n_dims] (ne0 first)
                     | uint32 ggml_type | uint64 offset (relative to the data section) }
    padding to `general.alignment` (default 32) | tensor data
gguf_string = uint64 length + bytes (UTF-8, not NUL-terminated).

Every malformed input raises ValueError with a message naming what and where.
"""

import os
import struct

import numpy as np

import ggml_types

GGUF_MAGIC = b"GGUF"
DEFAULT_ALIGNMENT = 32
MAX_DIMS = 4  # GGML_MAX_DIMS

# GGUF metadata value types.
UINT8, INT8, UINT16, INT16, UINT32, INT32, FLOAT32, BOOL, STRING, ARRAY = range(10)
UINT64, INT64, FLOAT64 = 10, 11, 12

# Fixed-size scalar types: struct format (little-endian).
_SCALAR_FORMATS = {
    UINT8: "<B", INT8: "<b", UINT16: "<H", INT16: "<h", UINT32: "<I", INT32: "<i",
    FLOAT32: "<f", BOOL: "<B", UINT64: "<Q", INT64: "<q", FLOAT64: "<d",
}
# Same types as numpy dtypes, for reading numeric arrays in one go.
_NUMPY_DTYPES = {
    UINT8: "<u1", INT8: "<i1", UINT16: "<u2", INT16: "<i2", UINT32: "<u4", INT32: "<i4",
    FLOAT32: "<f4", BOOL: "<u1", UINT64: "<u8", INT64: "<i8", FLOAT64: "<f8",
}
VALUE_TYPE_NAMES = {
    UINT8: "UINT8", INT8: "INT8", UINT16: "UINT16", INT16: "INT16", UINT32: "UINT32",
    INT32: "INT32", FLOAT32: "FLOAT32", BOOL: "BOOL", STRING: "STRING", ARRAY: "ARRAY",
    UINT64: "UINT64", INT64: "INT64", FLOAT64: "FLOAT64",
}


def _product(dims):
    n = 1
    for d in dims:
        n *= d
    return n


class TensorInfo:
    """One entry of the tensor directory. dims are ggml order: dims[0] = ne0 (innermost)."""

    def __init__(self, name, dims, type_id, offset):
        self.name = name
        self.dims = dims
        self.type = type_id
        self.offset = offset          # relative to GgufFile.data_offset
        self.file_offset = None       # absolute, filled in once the data offset is known
        self.n_elements = _product(dims)
        elems, nbytes = ggml_types.block_geometry(type_id)
        self.n_bytes = self.n_elements // elems * nbytes

    @property
    def type_name(self):
        return ggml_types.type_name(self.type)

    @property
    def shape(self):
        """numpy shape (slowest dimension first)."""
        return tuple(reversed(self.dims))

    def __repr__(self):
        return "TensorInfo(%r, %s, dims=%s, offset=%d, n_bytes=%d)" % (
            self.name, self.type_name, self.dims, self.offset, self.n_bytes)


class GgufFile:
    """A parsed GGUF file. `data` is a read-only uint8 memmap of the whole file."""

    def __init__(self, path, data):
        self.path = path
        self.data = data
        self.version = None
        self.metadata = {}        # key -> python value (arrays as lists)
        self.metadata_types = {}  # key -> value type, or (ARRAY, element type) for arrays
        self.tensors = []         # TensorInfo in file order
        self.alignment = DEFAULT_ALIGNMENT
        self.data_offset = None

    def tensor(self, name):
        for t in self.tensors:
            if t.name == name:
                return t
        raise KeyError("no tensor named %r in %s" % (name, self.path))

    def raw(self, tensor):
        """The tensor's bytes as a uint8 array view (no copy)."""
        return self.data[tensor.file_offset:tensor.file_offset + tensor.n_bytes]


class _Cursor:
    """Bounds-checked little-endian reader over a byte buffer."""

    def __init__(self, buf):
        self.buf = buf
        self.pos = 0

    def take(self, n, what):
        if n < 0 or self.pos + n > len(self.buf):
            raise ValueError("truncated file: need %d bytes for %s at offset %d, file has %d"
                             % (n, what, self.pos, len(self.buf)))
        start = self.pos
        self.pos += n
        return start

    def scalar(self, fmt, what):
        start = self.take(struct.calcsize(fmt), what)
        return struct.unpack_from(fmt, self.buf, start)[0]

    def u32(self, what):
        return self.scalar("<I", what)

    def u64(self, what):
        return self.scalar("<Q", what)

    def string(self, what):
        n = self.u64(what + " length")
        start = self.take(n, what)
        # ggml does not validate UTF-8; keep invalid bytes recoverable instead of failing.
        return bytes(self.buf[start:start + n]).decode("utf-8", errors="surrogateescape")


def _read_value(cur, vtype, what):
    """One metadata value of type vtype; returns (python value, type descriptor)."""
    if vtype == STRING:
        return cur.string(what), STRING
    if vtype == ARRAY:
        return _read_array(cur, what)
    if vtype not in _SCALAR_FORMATS:
        raise ValueError("%s has unknown value type %d at offset %d" % (what, vtype, cur.pos))
    value = cur.scalar(_SCALAR_FORMATS[vtype], what)
    if vtype == BOOL:
        if value > 1:
            raise ValueError("%s is a BOOL with byte value %d (must be 0 or 1)" % (what, value))
        value = bool(value)
    return value, vtype


def _read_array(cur, what):
    elem_type = cur.u32(what + " element type")
    count = cur.u64(what + " element count")
    if elem_type in _NUMPY_DTYPES:
        dtype = np.dtype(_NUMPY_DTYPES[elem_type])
        if count * dtype.itemsize > len(cur.buf) - cur.pos:
            raise ValueError("truncated file: %s has %d elements of type %s, past end of file"
                             % (what, count, VALUE_TYPE_NAMES[elem_type]))
        start = cur.take(count * dtype.itemsize, what)
        values = np.frombuffer(cur.buf, dtype=dtype, count=count, offset=start)
        if elem_type == BOOL:
            if count and values.max() > 1:
                raise ValueError("%s holds a BOOL byte other than 0 or 1" % what)
            return [bool(v) for v in values], (ARRAY, elem_type)
        return values.tolist(), (ARRAY, elem_type)
    if elem_type not in (STRING, ARRAY):
        raise ValueError("%s has unknown element type %d" % (what, elem_type))
    if count > len(cur.buf) - cur.pos:  # every element takes at least one byte
        raise ValueError("%s claims %d elements, more than the file can hold" % (what, count))
    items = []
    for i in range(count):
        value, _ = _read_value(cur, elem_type, "%s[%d]" % (what, i))
        items.append(value)
    return items, (ARRAY, elem_type)


def _read_header(cur, gf):
    start = cur.take(4, "magic")
    magic = bytes(cur.buf[start:start + 4])
    if magic != GGUF_MAGIC:
        raise ValueError("not a GGUF file: magic is %r, expected %r" % (magic, GGUF_MAGIC))
    gf.version = cur.u32("version")
    if gf.version not in (2, 3):
        raise ValueError("unsupported GGUF version %d (only 2 and 3 are supported)"
                         % gf.version)
    n_tensors = cur.u64("tensor_count")
    n_kv = cur.u64("kv_count")
    return n_tensors, n_kv


def _read_metadata(cur, gf, n_kv):
    if n_kv > len(cur.buf):
        raise ValueError("kv_count %d is larger than the file" % n_kv)
    for i in range(n_kv):
        key = cur.string("key of metadata entry %d" % i)
        if key in gf.metadata:
            raise ValueError("duplicate metadata key %r" % key)
        vtype = cur.u32("value type of %r" % key)
        gf.metadata[key], gf.metadata_types[key] = _read_value(cur, vtype, "value of %r" % key)
    if "general.alignment" in gf.metadata:
        if gf.metadata_types["general.alignment"] != UINT32:
            raise ValueError("general.alignment must be UINT32, found type %s"
                             % str(gf.metadata_types["general.alignment"]))
        alignment = gf.metadata["general.alignment"]
        if alignment == 0 or alignment & (alignment - 1):
            raise ValueError("general.alignment %d is not a power of two" % alignment)
        gf.alignment = alignment


def _read_tensor_info(cur, index):
    name = cur.string("name of tensor %d" % index)
    what = "tensor %r" % name
    n_dims = cur.u32(what + " n_dims")
    if n_dims > MAX_DIMS:
        raise ValueError("%s has %d dimensions (at most %d allowed)" % (what, n_dims, MAX_DIMS))
    dims = [cur.u64("%s dim %d" % (what, d)) for d in range(n_dims)]
    type_id = cur.u32(what + " type")
    offset = cur.u64(what + " offset")
    if any(d >= 2**63 for d in dims) or _product(dims) >= 2**63:
        raise ValueError("%s has dims %s whose element count overflows int64" % (what, dims))
    try:
        elems, _ = ggml_types.block_geometry(type_id)
    except ValueError as e:
        raise ValueError("%s: %s" % (what, e))
    if dims and dims[0] % elems != 0:
        raise ValueError("%s of type %s has ne0=%d, not a multiple of the block size %d"
                         % (what, ggml_types.type_name(type_id), dims[0], elems))
    return TensorInfo(name, dims, type_id, offset)


def _place_tensors(gf, end_of_infos, file_size):
    gf.data_offset = -(-end_of_infos // gf.alignment) * gf.alignment
    for t in gf.tensors:
        if t.offset % gf.alignment != 0:
            raise ValueError("tensor %r offset %d is not a multiple of the alignment %d"
                             % (t.name, t.offset, gf.alignment))
        t.file_offset = gf.data_offset + t.offset
        if t.file_offset + t.n_bytes > file_size:
            raise ValueError("tensor %r data [%d, %d) runs past the end of the file (%d bytes)"
                             % (t.name, t.file_offset, t.file_offset + t.n_bytes, file_size))


def read_gguf(path):
    """Parse the GGUF file at path. Raises ValueError if it is malformed."""
    file_size = os.path.getsize(path)
    if file_size < 24:
        raise ValueError("%s is %d bytes, too small to be a GGUF file" % (path, file_size))
    data = np.memmap(path, dtype=np.uint8, mode="r")
    gf = GgufFile(path, data)
    cur = _Cursor(data)
    n_tensors, n_kv = _read_header(cur, gf)
    _read_metadata(cur, gf, n_kv)
    if n_tensors > file_size:
        raise ValueError("tensor_count %d is larger than the file" % n_tensors)
    names = set()
    for i in range(n_tensors):
        t = _read_tensor_info(cur, i)
        if t.name in names:
            raise ValueError("duplicate tensor name %r" % t.name)
        names.add(t.name)
        gf.tensors.append(t)
    _place_tensors(gf, cur.pos, file_size)
    return gf
