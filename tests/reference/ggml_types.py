"""ggml tensor type ids and their block geometry (reference tables, no logic).

Source: ../shared/reference/ggml-quant-formats.md ("Type ids and block sizes").
A tensor of `n` elements of a type with (block_elems, block_bytes) occupies
n / block_elems * block_bytes bytes; each row (ne0) must be a whole number of blocks.
"""

F32, F16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q8_1 = 0, 1, 2, 3, 6, 7, 8, 9
Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, Q8_K = 10, 11, 12, 13, 14, 15
BF16, MXFP4 = 30, 39

# id -> (name, block_elems, block_bytes). Ids 0-15, 30 and 39 come from the shared spec.
# The others are in ggml's type enum but not in the shared spec: their sizes are given from
# ggml's block structs only so that a reader can compute a tensor's byte size and parse a
# file that contains them; dequant.py does not dequantize them.
TYPES = {
    0: ("F32", 1, 4),
    1: ("F16", 1, 2),
    2: ("Q4_0", 32, 18),
    3: ("Q4_1", 32, 20),
    6: ("Q5_0", 32, 22),
    7: ("Q5_1", 32, 24),
    8: ("Q8_0", 32, 34),
    9: ("Q8_1", 32, 36),
    10: ("Q2_K", 256, 84),
    11: ("Q3_K", 256, 110),
    12: ("Q4_K", 256, 144),
    13: ("Q5_K", 256, 176),
    14: ("Q6_K", 256, 210),
    15: ("Q8_K", 256, 292),
    16: ("IQ2_XXS", 256, 66),
    17: ("IQ2_XS", 256, 74),
    18: ("IQ3_XXS", 256, 98),
    19: ("IQ1_S", 256, 50),
    20: ("IQ4_NL", 32, 18),
    21: ("IQ3_S", 256, 110),
    22: ("IQ2_S", 256, 82),
    23: ("IQ4_XS", 256, 136),
    24: ("I8", 1, 1),
    25: ("I16", 1, 2),
    26: ("I32", 1, 4),
    27: ("I64", 1, 8),
    28: ("F64", 1, 8),
    29: ("IQ1_M", 256, 56),
    30: ("BF16", 1, 2),
    34: ("TQ1_0", 256, 54),
    35: ("TQ2_0", 256, 66),
    39: ("MXFP4", 32, 17),
}

# Ids ggml once used and removed (Q4_2, Q4_3, Q4_0_4_4, Q4_0_4_8, Q4_0_8_8, IQ4_NL_4_4,
# IQ4_NL_4_8, IQ4_NL_8_8). A file using them must be rejected with a clear error.
REMOVED_TYPES = {4, 5, 31, 32, 33, 36, 37, 38}


def type_name(type_id):
    if type_id in TYPES:
        return TYPES[type_id][0]
    return "REMOVED_%d" % type_id if type_id in REMOVED_TYPES else "UNKNOWN_%d" % type_id


def block_geometry(type_id):
    """(block_elems, block_bytes) of a ggml type; ValueError for removed or unknown ids."""
    if type_id in REMOVED_TYPES:
        raise ValueError("ggml type %d was removed from ggml; re-quantize the model with a "
                         "current llama.cpp" % type_id)
    if type_id not in TYPES:
        raise ValueError("unknown ggml type id %d" % type_id)
    _, elems, nbytes = TYPES[type_id]
    return elems, nbytes
