// Writes little-endian float32 arrays as NumPy .npy files (format version 1.0), for tensor
// dumps that the numpy reference can diff against. Thread-compatible.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "util/status.h"

namespace frugal::io {

Status WriteNpyF32(const std::string& path, const float* data, const std::vector<int64_t>& shape);

}  // namespace frugal::io
